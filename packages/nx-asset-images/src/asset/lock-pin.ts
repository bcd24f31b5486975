/**
 * The lock (version 2) of a built image: the analysis's files and, as the
 * image pin, the manifest digest and every layer's descriptor with the local
 * files it holds, plus the build parameters the layer bytes depend on (mtime,
 * compression, destination) and the repository the layers come from. Pure.
 */
import type { Image } from '../oci/image';
import type { ImageIndex } from '../oci/image-index';
import { parseImageReference } from '../oci/image-reference';
import { lockFromHashes, type AssetLock, type AssetLockImage } from '../lock/lock';
import type { AssetAnalysis } from './analyze-asset';

/** The lock of what `assembleAsset` built: a multi-platform asset is pinned by its index (the layers are every platform's). */
export function lockWithBuilt(analysis: AssetAnalysis, built: Image | ImageIndex, mtime: number): AssetLock {
  if (!('index' in built)) return lockWithImage(analysis, built, mtime);
  const lock = lockWithImage(analysis, built.images[0]!.image, mtime);
  return { ...lock, image: { ...lock.image!, manifest: built.index.descriptor.digest, mediaType: built.index.descriptor.mediaType } };
}

export function lockWithImage(analysis: AssetAnalysis, image: Image, mtime: number): AssetLock {
  if (image.layers.length !== analysis.layers.length) {
    throw new Error(`lockWithImage: ${image.layers.length} image layers for ${analysis.layers.length} planned layers`);
  }
  return lockFromHashes(
    analysis.layers.flatMap((layer) => layer.files).filter((file) => file.origin === 'local'),
    {
      manifest: image.manifest.descriptor.digest,
      mediaType: image.manifest.descriptor.mediaType,
      mtime,
      compression: analysis.manifest.compression,
      destination: analysis.manifest.destination,
      repository: layerRepository(analysis),
      tags: [...analysis.manifest.tags],
      layers: image.layers.map((layer, i) => ({
        digest: layer.descriptor.digest,
        diffID: layer.diffId,
        size: layer.descriptor.size,
        mediaType: layer.descriptor.mediaType,
        files: analysis.layers[i]!.files.filter((file) => file.origin === 'local').map((file) => file.relPath),
      })),
    },
  );
}

/**
 * Where the layers can be fetched from: asset.json's image, unless a layer is
 * carried over from the committed lock (its bytes absent here), whose
 * recorded repository still holds it until this image is pushed.
 */
export function layerRepository(analysis: AssetAnalysis): string {
  const carried = analysis.layers.some((layer) => layer.pinned !== undefined);
  const earlier = analysis.committedLock?.image?.repository;
  if (carried && earlier !== undefined) return earlier;
  const ref = parseImageReference(analysis.manifest.image);
  return `${ref.registry}/${ref.repository}`;
}

/**
 * The version tags (not `mutable`) that stayed the same while the content
 * changed since the committed pin: pushing would move them to other content,
 * which asset-push refuses. Empty when the pin does not record its tags.
 */
export function unchangedVersionTags(
  committed: AssetLockImage | undefined,
  next: { manifest: string; tags: readonly string[] },
  mutable: readonly string[],
): string[] {
  if (committed?.tags === undefined || committed.manifest === next.manifest) return [];
  return next.tags.filter((tag) => committed.tags!.includes(tag) && !mutable.includes(tag));
}
