/**
 * A multi-platform asset image: one OCI image index over one image manifest
 * per platform. An asset's layers hold files, not binaries, so every
 * platform's manifest lists the very same layers (byte for byte, one blob
 * each in a store or a registry); only the small configs differ (their
 * `architecture`, `os`, `variant`). Pure: layer bytes are not read.
 */
import { jsonBlob, assembleImage, type AssembleImageOptions } from './assemble-image';
import type { BytesBlob, Descriptor, Image } from './image';
import { MEDIA_TYPE_OCI_INDEX } from './media-types';
import { platformKey, type Platform } from './platform';

export interface PlatformImage {
  platform: Platform;
  image: Image;
}

export interface ImageIndex {
  /** The index blob (application/vnd.oci.image.index.v1+json): the asset's digest. */
  index: BytesBlob;
  /** In the order of the index's manifests. */
  images: readonly PlatformImage[];
}

export interface AssembleIndexOptions extends Omit<AssembleImageOptions, 'configOptions'> {
  platforms: readonly Platform[];
  configOptions?: Omit<NonNullable<AssembleImageOptions['configOptions']>, 'architecture' | 'os' | 'variant'>;
}

export function assembleImageIndex(options: AssembleIndexOptions): ImageIndex {
  if (options.platforms.length === 0) throw new Error('assembleImageIndex: no platforms');
  const seen = new Set<string>();
  const images = options.platforms.map((platform): PlatformImage => {
    const key = platformKey(platform);
    if (seen.has(key)) throw new Error(`assembleImageIndex: platform ${key} listed twice`);
    seen.add(key);
    const image = assembleImage({
      layers: options.layers,
      ...(options.annotations ? { annotations: options.annotations } : {}),
      configOptions: {
        ...options.configOptions,
        os: platform.os,
        architecture: platform.architecture,
        ...(platform.variant ? { variant: platform.variant } : {}),
      },
    });
    return { platform: { ...platform }, image };
  });
  const manifests: Descriptor[] = images.map(({ platform, image }) => ({
    mediaType: image.manifest.descriptor.mediaType,
    digest: image.manifest.descriptor.digest,
    size: image.manifest.descriptor.size,
    platform: { architecture: platform.architecture, os: platform.os, ...(platform.variant ? { variant: platform.variant } : {}) },
  }));
  const index = jsonBlob(MEDIA_TYPE_OCI_INDEX, {
    schemaVersion: 2,
    mediaType: MEDIA_TYPE_OCI_INDEX,
    manifests,
    ...(options.annotations ? { annotations: { ...options.annotations } } : {}),
  });
  return { index, images };
}

/**
 * The image for `wanted`: the same os and architecture, and the same variant
 * when both name one (arm64 without a variant is v8). Undefined when none fits.
 */
export function selectPlatformImage(index: ImageIndex, wanted: Platform): PlatformImage | undefined {
  return (
    index.images.find((entry) => platformKey(entry.platform) === platformKey(wanted)) ??
    (wanted.variant === undefined
      ? index.images.find((entry) => entry.platform.os === wanted.os && entry.platform.architecture === wanted.architecture)
      : undefined)
  );
}
