import { Readable } from 'node:stream';
import type { BytesBlob, Descriptor, Digest, Image, Layer } from '../oci/image';
import type { ImageConfig } from '../oci/image-config';
import type { OciManifest } from '../oci/manifest';
import type { ImageIndex } from '../oci/image-index';
import { platformKey, type Platform } from '../oci/platform';
import { MEDIA_TYPE_DOCKER_MANIFEST, MEDIA_TYPE_OCI_INDEX, MEDIA_TYPE_OCI_MANIFEST } from '../oci/media-types';
import { findIndexEntry, refNameOf, type OciIndex } from '../oci/oci-index';
import { openBlob, readVerifiedBlob, writeBlob } from '../store/blob-store';
import { OciLayoutError, OciLayoutRefNotFoundError } from '../store/layout-errors';
import { addIndexEntries, ensureLayoutFile, readIndex } from '../store/layout-files';
import { mapWithConcurrency } from '../util/concurrency';
import type { OnProgress } from '../util/progress';

export { BlobDigestMismatchError, OciLayoutError, OciLayoutRefNotFoundError } from '../store/layout-errors';

const LAYOUT_WRITE_CONCURRENCY = 2;

export interface WriteOciLayoutOptions {
  /** Tags the image gets in `index.json` (`org.opencontainers.image.ref.name`); entries with these names are replaced. Empty: one unnamed entry. */
  refNames: readonly string[];
  onProgress?: OnProgress;
  /**
   * Write the layer blobs too (default). `false` writes only the small blobs (configs, manifests, the
   * index) and the `index.json` entries: enough for `skopeo inspect` and for the store's garbage
   * collector to see what a build is made of, while the layers' bytes stay in the sources (and Docker,
   * and the registry) until a consumer needs them in the layout (a BuildKit `oci-layout://` context).
   */
  layers?: boolean;
}

export interface WriteOciLayoutResult {
  manifestDigest: Digest;
  /** Blobs written by this call. */
  written: Digest[];
  /** Blobs already present with the right size. */
  skipped: Digest[];
}

/**
 * Writes `image` into the OCI image layout at `dir` (created if needed):
 * `oci-layout`, the blobs (layers, config, manifest; each through a temp file
 * verified against its digest, then renamed), and `index.json` last,
 * atomically, merged with the entries already there.
 */
export async function writeOciLayout(dir: string, image: Image, options: WriteOciLayoutOptions): Promise<WriteOciLayoutResult> {
  await ensureLayoutFile(dir);
  const result: WriteOciLayoutResult = { manifestDigest: image.manifest.descriptor.digest, written: [], skipped: [] };
  const done = new Set<Digest>();
  const blobs: { descriptor: Descriptor; open: () => Readable }[] = [
    ...(options.layers === false ? [] : image.layers).map((layer: Layer) => ({ descriptor: layer.descriptor, open: () => layer.open() })),
    bytesSource(image.config),
    bytesSource(image.manifest),
  ].filter((blob) => !done.has(blob.descriptor.digest) && done.add(blob.descriptor.digest));
  // Layers two at a time (each is a read, a sha256 and a write: CPU-bound on this kind of machine),
  // then config and manifest; outcomes reported in blob order.
  const layerCount = blobs.length - 2;
  const write = (blob: (typeof blobs)[number]) => writeBlob(dir, blob.descriptor, blob.open, { onProgress: options.onProgress });
  const outcomes = await mapWithConcurrency(blobs.slice(0, layerCount), LAYOUT_WRITE_CONCURRENCY, write);
  for (const blob of blobs.slice(layerCount)) outcomes.push(await write(blob));
  blobs.forEach((blob, i) => result[outcomes[i]!].push(blob.descriptor.digest));
  await addIndexEntries(dir, image.manifest.descriptor, options.refNames);
  return result;
}

function bytesSource(blob: BytesBlob): { descriptor: Descriptor; open: () => Readable } {
  return {
    descriptor: blob.descriptor,
    open: () => Readable.from([blob.bytes], { objectMode: false }),
  };
}

/**
 * Writes a multi-platform `index` into the layout at `dir`: every layer once
 * (the platforms share them), each platform's config and manifest, the index
 * blob, and `index.json` entries (one per ref name) pointing at the index.
 */
export async function writeOciLayoutIndex(dir: string, index: ImageIndex, options: WriteOciLayoutOptions): Promise<WriteOciLayoutResult> {
  await ensureLayoutFile(dir);
  const result: WriteOciLayoutResult = { manifestDigest: index.index.descriptor.digest, written: [], skipped: [] };
  const done = new Set<Digest>();
  const unique = <T extends { descriptor: Descriptor }>(blobs: T[]): T[] =>
    blobs.filter((blob) => !done.has(blob.descriptor.digest) && done.add(blob.descriptor.digest));
  const layers = unique(
    index.images.flatMap(({ image }) =>
      (options.layers === false ? [] : image.layers).map((layer) => ({ descriptor: layer.descriptor, open: () => layer.open() })),
    ),
  );
  const small = unique([
    ...index.images.flatMap(({ image }) => [bytesSource(image.config), bytesSource(image.manifest)]),
    bytesSource(index.index),
  ]);
  const write = (blob: { descriptor: Descriptor; open: () => Readable }) =>
    writeBlob(dir, blob.descriptor, blob.open, { onProgress: options.onProgress });
  const outcomes = await mapWithConcurrency(layers, LAYOUT_WRITE_CONCURRENCY, write);
  for (const blob of small) outcomes.push(await write(blob));
  [...layers, ...small].forEach((blob, i) => result[outcomes[i]!].push(blob.descriptor.digest));
  await addIndexEntries(dir, index.index.descriptor, options.refNames);
  return result;
}

/**
 * Reads the image named `refOrDigest` (a ref name in `index.json` or a
 * manifest digest) from the layout at `dir`. Manifest and config are read and
 * verified; layers' `open()` stream the blob files.
 */
export async function readOciLayoutImage(dir: string, refOrDigest: string, platform?: Platform): Promise<Image> {
  const index = await readIndex(dir);
  if (!index) throw new OciLayoutError('no index.json', dir);
  let entry = findIndexEntry(index, refOrDigest);
  if (entry && entry.mediaType === MEDIA_TYPE_OCI_INDEX) {
    // A multi-platform asset: the manifest for `platform` (default linux/amd64) inside the index blob.
    const inner = JSON.parse((await readVerifiedBlob(dir, entry)).toString('utf8')) as OciIndex;
    const wanted = platform ?? { os: 'linux', architecture: 'amd64' };
    const chosen = inner.manifests.find((m) => m.platform && platformKey(m.platform) === platformKey(wanted));
    if (!chosen) {
      throw new OciLayoutError(
        `${refOrDigest} has no manifest for ${platformKey(wanted)} (it has ${inner.manifests.map((m) => (m.platform ? platformKey(m.platform) : m.digest)).join(', ')})`,
        dir,
      );
    }
    entry = chosen;
  }
  if (!entry) {
    throw new OciLayoutRefNotFoundError(
      dir,
      refOrDigest,
      index.manifests.map((m) => refNameOf(m) ?? m.digest),
    );
  }
  if (entry.mediaType !== MEDIA_TYPE_OCI_MANIFEST && entry.mediaType !== MEDIA_TYPE_DOCKER_MANIFEST) {
    throw new OciLayoutError(`${refOrDigest} is a ${entry.mediaType}, not an image manifest`, dir);
  }
  const manifestBytes = await readVerifiedBlob(dir, entry);
  const manifest = JSON.parse(manifestBytes.toString('utf8')) as OciManifest;
  const configBytes = await readVerifiedBlob(dir, manifest.config);
  const config = JSON.parse(configBytes.toString('utf8')) as ImageConfig;
  const diffIds = config.rootfs?.diff_ids ?? [];
  if (diffIds.length !== manifest.layers.length) {
    throw new OciLayoutError(`${refOrDigest}: ${manifest.layers.length} layers but ${diffIds.length} diff_ids in the config`, dir);
  }
  return {
    manifest: { descriptor: { mediaType: entry.mediaType, digest: entry.digest, size: entry.size }, bytes: manifestBytes },
    config: { descriptor: manifest.config, bytes: configBytes },
    layers: manifest.layers.map((descriptor, i) => ({
      descriptor,
      diffId: diffIds[i]!,
      open: () => openBlob(dir, descriptor.digest),
    })),
  };
}

/** Reads the multi-platform index `refOrDigest` (a ref name or the index digest) from the layout, with every platform's image. */
export async function readOciLayoutIndex(dir: string, refOrDigest: string): Promise<ImageIndex> {
  const index = await readIndex(dir);
  if (!index) throw new OciLayoutError('no index.json', dir);
  const entry = findIndexEntry(index, refOrDigest);
  if (!entry)
    throw new OciLayoutRefNotFoundError(
      dir,
      refOrDigest,
      index.manifests.map((m) => refNameOf(m) ?? m.digest),
    );
  if (entry.mediaType !== MEDIA_TYPE_OCI_INDEX) throw new OciLayoutError(`${refOrDigest} is a ${entry.mediaType}, not an image index`, dir);
  const bytes = await readVerifiedBlob(dir, entry);
  const inner = JSON.parse(bytes.toString('utf8')) as OciIndex;
  const images = [];
  for (const manifest of inner.manifests) {
    if (!manifest.platform) throw new OciLayoutError(`index ${entry.digest}: manifest ${manifest.digest} names no platform`, dir);
    images.push({ platform: { ...manifest.platform }, image: await readOciLayoutImage(dir, entry.digest, manifest.platform) });
  }
  return { index: { descriptor: { mediaType: entry.mediaType, digest: entry.digest, size: entry.size }, bytes }, images };
}
