/**
 * From an analysed asset to an `Image`: layers whose bytes are streamed from the
 * source files on demand (large files through their tar frame, small files as a
 * reproducible grouped tar), config and manifest. No bytes are copied here; the
 * transports pull what they need through `Layer.open()`.
 */
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Digest, Image, Layer } from '../oci/image';
import { assembleImage } from '../oci/assemble-image';
import { assembleImageIndex, type ImageIndex } from '../oci/image-index';
import type { Platform } from '../oci/platform';
import { digestReadable } from '../oci/digest';
import { MEDIA_TYPE_OCI_LAYER } from '../oci/media-types';
import { frameLayer } from '../tar/single-file-frame';
import { tarSize, tarStream, WHOLE_READ_MAX_BYTES } from '../tar/tar-stream';
import { compressedLayer, compressionIdentity, compressLayer, type CompressionOptions } from '../oci/compression';
import type { Compression } from '../oci/layer-codecs';
import type { AnalyzedLayer, AssetAnalysis } from '../asset/analyze-asset';
import { LayerDigestCache, StaleLayerDigestError } from './layer-digest-cache';
import type { AssetBuildOptions } from '../asset/build-options';
import { join, posix } from 'node:path';
import { AssetAbsentFilesError } from '../errors/asset-errors';
import { ASSET_LOCK_FILE, type AssetLockLayer } from '../lock/lock';
import { pinnedLayerBytes, type PinnedLayerBytes } from './pinned-layer-bytes';
import { canonicalJson } from '../oci/canonical-json';
import { sha256Digest } from '../oci/digest';
import { readAhead } from '../util/read-ahead';

export interface BuildImageOptions {
  /** Seconds since the epoch for tar entries and the config's `created` (SOURCE_DATE_EPOCH). */
  mtime?: number;
  platform?: { os: string; architecture: string; variant?: string };
  /** Known digests of compressed and grouped layers (see LayerDigestCache); none: everything is recomputed. */
  layerDigests?: LayerDigestCache;
  /** gzip/zstd level; default the codec's (see compression.ts). */
  compressionLevel?: number;
  /** Where the bytes of a lock-pinned layer with absent files come from when a transport opens it; none: opening it is an error. */
  pinnedBytes?: PinnedLayerBytes;
}

export const ANNOTATION_TITLE = 'org.opencontainers.image.title';

/** Bump when the grouped small-files tar changes for the same entries (tar-stream.ts): remembered digests are then not reused. */
const GROUP_LAYER_FORMAT = 1;

/** The layer digest cache entries each layer's digest came from (none: computed from its bytes in this build). */
const cachedEntries = new WeakMap<Layer, readonly string[]>();

/** The layer digest cache keys a layer of `buildAssetImage` took its digests from; empty when they were computed from the bytes. */
export function cachedEntriesOf(layer: Layer): readonly string[] {
  return cachedEntries.get(layer) ?? [];
}

/**
 * The cache key of a grouped small-files layer: everything its tar is made of, as the sha256 of the canonical JSON
 * of `{ format, mtime, files: [[imagePath, mode, size, sha256], ...] }`. Written here without `canonicalJson`'s
 * walk: `JSON.stringify` of arrays of strings and finite numbers is already canonical, and the keys are written in
 * their sorted order (a quarter of a build's own time at 100,000 files went to the walk). The spec holds the two equal.
 */
export function groupLayerKey(mtime: number, files: readonly { imagePath: string; mode: number; size: number; sha256: string }[]): string {
  const rows = files.map((f) => [f.imagePath, f.mode, f.size, f.sha256]);
  for (const file of files) {
    if (!Number.isFinite(file.mode) || !Number.isFinite(file.size))
      throw new TypeError(`canonicalJson: non-finite number in ${file.imagePath}`);
  }
  if (!Number.isFinite(mtime)) throw new TypeError(`canonicalJson: non-finite number ${mtime}`);
  const text = `{"files":${JSON.stringify(rows)},"format":${GROUP_LAYER_FORMAT},"mtime":${JSON.stringify(mtime)}}`;
  return `group-${sha256Digest(text).slice(7)}`;
}

/** The cache key of a compressed layer: its diffID and everything the compressed bytes depend on (codec, level, library version, settings). */
export function compressedLayerKey(
  diffId: Digest,
  compression: Exclude<Compression, 'none'>,
  options: CompressionOptions = {},
  versions: NodeJS.ProcessVersions = process.versions,
): string {
  return `${compression}-${sha256Digest(canonicalJson({ diffId, ...compressionIdentity(compression, options, versions) })).slice(7)}`;
}

export async function buildAssetImage(analysis: AssetAnalysis, options: BuildImageOptions = {}): Promise<Image> {
  const mtime = options.mtime ?? 0;
  const layers: Layer[] = [];
  const settings: CompressionOptions = options.compressionLevel !== undefined ? { level: options.compressionLevel } : {};
  const lockFile = posix.join(analysis.manifest.projectRoot, ASSET_LOCK_FILE);
  const unbuildable = analysis.layers.filter((layer) => layer.files.some((file) => file.absent) && !layer.pinned);
  if (unbuildable.length > 0) {
    const files = unbuildable.flatMap((layer) => layer.files.filter((file) => file.absent).map((file) => file.relPath));
    const why =
      analysis.committedLock?.lockfileVersion !== 2 || !analysis.committedLock.image
        ? `${lockFile} does not pin the image yet (lockfileVersion 1, or no "image")`
        : 'the lock does not pin their layer as it is now (other files of that layer changed, or the build parameters: SOURCE_DATE_EPOCH, compression, destination)';
    throw new AssetAbsentFilesError(
      lockFile,
      files,
      `${why}. Build where the files are (\`nx run ${analysis.manifest.name}:asset-image\`), commit ${lockFile} and push the image, or run \`nx run ${analysis.manifest.name}:asset-pull\` first.`,
    );
  }
  for (const planned of analysis.layers) {
    if (planned.pinned) {
      layers.push(pinnedLayer(planned, planned.pinned, lockFile, options.pinnedBytes));
      continue;
    }
    for (let tries = 1; ; tries++) {
      const layer = await uncompressedLayer(planned, mtime, options.layerDigests);
      try {
        layers.push(await compress(layer, analysis.manifest.compression, settings, options.layerDigests));
        break;
      } catch (error) {
        // Compressing read the grouped tar, whose remembered digest was wrong (now corrected): once more with the right one.
        if (!(error instanceof StaleLayerDigestError) || tries > 1) throw error;
      }
    }
  }
  const annotations = { [ANNOTATION_TITLE]: analysis.manifest.name, ...analysis.manifest.annotations };
  return assembleImage({
    layers,
    configOptions: {
      created: createdOf(mtime),
      os: options.platform?.os ?? 'linux',
      architecture: options.platform?.architecture ?? 'amd64',
      variant: options.platform?.variant,
      labels: annotations,
    },
    annotations,
  });
}

function createdOf(mtime: number): string {
  return new Date(mtime * 1000).toISOString().replace('.000Z', 'Z');
}

/**
 * The multi-platform image of an analysed asset: the layers of
 * `buildAssetImage` (computed once), one config and manifest per platform,
 * one index. With one platform, use `buildAssetImage` (a plain manifest).
 */
export async function buildAssetImageIndex(
  analysis: AssetAnalysis,
  platforms: readonly Platform[],
  options: Omit<BuildImageOptions, 'platform'> = {},
): Promise<ImageIndex> {
  const first = await buildAssetImage(analysis, { ...options, platform: platforms[0] });
  const annotations = { [ANNOTATION_TITLE]: analysis.manifest.name, ...analysis.manifest.annotations };
  return assembleImageIndex({
    layers: first.layers,
    platforms,
    configOptions: { created: createdOf(options.mtime ?? 0), labels: annotations },
    annotations,
  });
}

/** A layer with absent files, as the lock pins it: its bytes only when a transport opens it. */
function pinnedLayer(planned: AnalyzedLayer, pin: AssetLockLayer, lockFile: string, bytes: PinnedLayerBytes | undefined): Layer {
  const descriptor = { mediaType: pin.mediaType, digest: pin.digest as Digest, size: pin.size };
  const absent = planned.files.filter((file) => file.absent).map((file) => file.relPath);
  return {
    descriptor,
    diffId: pin.diffID as Digest,
    open: () => {
      if (bytes) return bytes(descriptor, absent);
      throw new AssetAbsentFilesError(
        lockFile,
        absent,
        `the bytes of layer ${pin.digest} are needed and no registry is configured to fetch them`,
      );
    },
  };
}

async function uncompressedLayer(planned: AnalyzedLayer, mtime: number, cache: LayerDigestCache | undefined): Promise<Layer> {
  if (planned.kind === 'large-file') {
    const file = planned.files[0]!;
    const frame = planned.frame!;
    const digest = planned.layerDigest!;
    return {
      descriptor: { mediaType: MEDIA_TYPE_OCI_LAYER, digest, size: frame.size },
      diffId: digest,
      open: frameLayer(frame, () => createReadStream(file.absPath), file.relPath),
    };
  }
  const entriesWith = (read: (i: number) => Promise<Buffer>) =>
    planned.files.map((file, i) => ({
      path: file.imagePath,
      mode: file.mode,
      size: file.size,
      open: () => createReadStream(file.absPath),
      read: () => read(i),
    }));
  const entries = entriesWith((i) => readFile(planned.files[i]!.absPath));
  // Each stream of the group reads its small files whole, a few ahead (not one promise round trip per file).
  const open = () =>
    tarStream(
      entriesWith(
        readAhead(planned.files.map((file) => (file.size <= WHOLE_READ_MAX_BYTES ? { path: file.absPath, size: file.size } : undefined))),
      ),
      {
        mtime,
      },
    );
  // The tar is a pure function of these (the sha256 values come from the analysis): known once, not re-read.
  const key = groupLayerKey(mtime, planned.files);
  const known = await cache?.get(key);
  if (cache && known) {
    const layer: Layer = {
      descriptor: { mediaType: MEDIA_TYPE_OCI_LAYER, digest: known.digest, size: known.size },
      diffId: known.digest,
      open: () => cache.guard(key, known, open(), `small-files layer of ${planned.files.length} file(s)`),
    };
    cachedEntries.set(layer, [key]);
    return layer;
  }
  const { digest, size } = await digestReadable(open());
  if (size !== tarSize(entries, { mtime })) throw new Error(`small-files layer: tar size ${size} differs from the planned size`);
  await cache?.set(key, { digest, size });
  return { descriptor: { mediaType: MEDIA_TYPE_OCI_LAYER, digest, size }, diffId: digest, open };
}

async function compress(
  layer: Layer,
  compression: Compression,
  settings: CompressionOptions,
  cache: LayerDigestCache | undefined,
): Promise<Layer> {
  if (compression === 'none') return layer;
  const key = compressedLayerKey(layer.diffId, compression, settings);
  const known = await cache?.get(key);
  if (cache && known) {
    const view = compressedLayer(layer, compression, known, settings);
    const guarded: Layer = { ...view, open: () => cache.guard(key, known, view.open(), `${compression} layer of ${layer.diffId}`) };
    cachedEntries.set(guarded, [...cachedEntriesOf(layer), key]);
    return guarded;
  }
  const compressed = await compressLayer(layer, compression, settings);
  await cache?.set(key, { digest: compressed.descriptor.digest as Digest, size: compressed.descriptor.size });
  // Compressed from a stream of the uncompressed layer, whose digest may itself have come from the cache.
  if (cachedEntriesOf(layer).length > 0) cachedEntries.set(compressed, cachedEntriesOf(layer));
  return compressed;
}

/** The store's cache of compressed and grouped layer digests. */
export function layerDigestsOf(options: AssetBuildOptions): LayerDigestCache {
  return new LayerDigestCache(join(options.store.root, 'layer-digests'));
}

/** The image of an analysed asset with the options' mtime, first platform and compression level. */
export function assembleAssetImage(analysis: AssetAnalysis, options: AssetBuildOptions, layerDigests: LayerDigestCache): Promise<Image> {
  return buildAssetImage(analysis, { ...assemblyOptions(analysis, options, layerDigests), platform: options.platforms[0] });
}

/** The platforms an asset builds for: asset.json's `platforms`, else the options' (the target's; default linux/amd64 and linux/arm64). */
export function assetPlatforms(
  manifest: { platforms?: readonly Platform[] },
  options: { platforms: readonly Platform[] },
): readonly Platform[] {
  return manifest.platforms && manifest.platforms.length > 0 ? manifest.platforms : options.platforms;
}

/**
 * What an analysed asset builds to under its platforms (`assetPlatforms`): one
 * index over a manifest per platform for several, that platform's image (a plain
 * manifest) for one.
 */
export function assembleAsset(
  analysis: AssetAnalysis,
  options: AssetBuildOptions,
  layerDigests: LayerDigestCache,
): Promise<Image | ImageIndex> {
  const platforms = assetPlatforms(analysis.manifest, options);
  if (platforms.length > 1) return assembleAssetIndex(analysis, options, layerDigests, platforms);
  return assembleAssetImage(analysis, { ...options, platforms: [platforms[0]!] }, layerDigests);
}

/** The multi-platform image (one index) of an analysed asset for `platforms`. */
export function assembleAssetIndex(
  analysis: AssetAnalysis,
  options: AssetBuildOptions,
  layerDigests: LayerDigestCache,
  platforms: readonly Platform[],
): Promise<ImageIndex> {
  return buildAssetImageIndex(analysis, platforms, assemblyOptions(analysis, options, layerDigests));
}

function assemblyOptions(
  analysis: AssetAnalysis,
  options: AssetBuildOptions,
  layerDigests: LayerDigestCache,
): Omit<BuildImageOptions, 'platform'> {
  return {
    mtime: options.mtime,
    ...(options.compressionLevel !== undefined ? { compressionLevel: options.compressionLevel } : {}),
    layerDigests,
    pinnedBytes: pinnedLayerBytes({
      layoutDir: options.store.ociLayout,
      image: analysis.manifest.image,
      ...(analysis.committedLock?.image?.repository !== undefined ? { lockRepository: analysis.committedLock.image.repository } : {}),
      lockFile: posix.join(analysis.manifest.projectRoot, ASSET_LOCK_FILE),
      project: analysis.manifest.name,
    }),
  };
}
