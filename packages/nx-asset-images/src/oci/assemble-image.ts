import { canonicalJson } from './canonical-json';
import { sha256Digest } from './digest';
import type { BytesBlob, Image, Layer } from './image';
import { createImageConfig, type ImageConfigOptions } from './image-config';
import { createManifest } from './manifest';
import { MEDIA_TYPE_OCI_CONFIG, MEDIA_TYPE_OCI_MANIFEST } from './media-types';

export interface AssembleImageOptions {
  /** Bottom layer first. */
  layers: readonly Layer[];
  configOptions?: Omit<ImageConfigOptions, 'diffIds'>;
  /** Manifest annotations. */
  annotations?: Record<string, string>;
}

/** A blob of canonical JSON bytes with its descriptor. */
export function jsonBlob(mediaType: string, value: unknown): BytesBlob {
  const bytes = canonicalJson(value);
  return { descriptor: { mediaType, digest: sha256Digest(bytes), size: bytes.length }, bytes };
}

/** Builds config and manifest for the given layers. Pure: layer bytes are not read. */
export function assembleImage(options: AssembleImageOptions): Image {
  const layers = [...options.layers];
  const config = jsonBlob(
    MEDIA_TYPE_OCI_CONFIG,
    createImageConfig({ ...options.configOptions, diffIds: layers.map((layer) => layer.diffId) }),
  );
  const manifest = jsonBlob(
    MEDIA_TYPE_OCI_MANIFEST,
    createManifest({
      config: config.descriptor,
      layers: layers.map((layer) => layer.descriptor),
      annotations: options.annotations,
    }),
  );
  return { manifest, config, layers };
}
