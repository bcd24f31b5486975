import type { Digest } from './image';

/** Fixed creation time: images built from the same input are identical on every machine. */
export const DEFAULT_CREATED = '1970-01-01T00:00:00Z';
export const DEFAULT_CREATED_BY = 'nx-asset-images';

export interface ImageConfigOptions {
  /** Digests of the uncompressed layer tars, bottom layer first. */
  diffIds: readonly Digest[];
  /** RFC 3339 time recorded as `created` (config and history). Default `1970-01-01T00:00:00Z`. */
  created?: string;
  architecture?: string;
  os?: string;
  variant?: string;
  labels?: Record<string, string>;
  /** `KEY=value` strings. */
  env?: readonly string[];
  /** `created_by` of every history entry. Default `nx-asset-images`. */
  createdBy?: string;
}

/** The OCI image configuration (application/vnd.oci.image.config.v1+json). */
export interface ImageConfig {
  created: string;
  architecture: string;
  os: string;
  variant?: string;
  config: { Labels?: Record<string, string>; Env?: string[] };
  rootfs: { type: 'layers'; diff_ids: Digest[] };
  history: { created: string; created_by: string }[];
}

export function createImageConfig(options: ImageConfigOptions): ImageConfig {
  const created = options.created ?? DEFAULT_CREATED;
  const createdBy = options.createdBy ?? DEFAULT_CREATED_BY;
  const config: ImageConfig['config'] = {};
  if (options.labels && Object.keys(options.labels).length > 0) config.Labels = { ...options.labels };
  if (options.env && options.env.length > 0) config.Env = [...options.env];
  return {
    created,
    architecture: options.architecture ?? 'amd64',
    os: options.os ?? 'linux',
    ...(options.variant ? { variant: options.variant } : {}),
    config,
    rootfs: { type: 'layers', diff_ids: [...options.diffIds] },
    history: options.diffIds.map(() => ({ created, created_by: createdBy })),
  };
}
