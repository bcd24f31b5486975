import type { Descriptor } from './image';
import { MEDIA_TYPE_OCI_MANIFEST } from './media-types';

/** An OCI image manifest (application/vnd.oci.image.manifest.v1+json). */
export interface OciManifest {
  schemaVersion: 2;
  mediaType: typeof MEDIA_TYPE_OCI_MANIFEST;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}

export interface ManifestOptions {
  config: Descriptor;
  layers: readonly Descriptor[];
  annotations?: Record<string, string>;
}

export function createManifest(options: ManifestOptions): OciManifest {
  return {
    schemaVersion: 2,
    mediaType: MEDIA_TYPE_OCI_MANIFEST,
    config: { ...options.config },
    layers: options.layers.map((layer) => ({ ...layer })),
    ...(options.annotations && Object.keys(options.annotations).length > 0 ? { annotations: { ...options.annotations } } : {}),
  };
}
