/**
 * A cache hit must never leave a user without the image it promises. Given the
 * small result Nx cached (digests and tags), find the image's bytes:
 *   1. the workspace's OCI layout store, when it holds the manifest and every blob;
 *   2. a rebuild from the asset's sources (stat cache: nothing is read when unchanged),
 *      with the build parameters the result records (SOURCE_DATE_EPOCH, platform,
 *      largeFileThreshold, compression level), accepted only when it yields exactly
 *      the promised manifest digest;
 *   3. the registry, by digest, into the layout store (a fresh CI runner without the weights).
 */
import { stat } from 'node:fs/promises';
import { posix } from 'node:path';
import type { Digest, Image } from '../oci/image';
import type { ImageIndex } from '../oci/image-index';
import type { LayerDigestCache } from '../assembly/layer-digest-cache';
import { parseImageReference, withDigest } from '../oci/image-reference';
import { pullImageToLayout, type PullOptions } from '../transports/registry';
import { blobPath } from '../store/blob-store';
import { readOciLayoutImage } from '../transports/oci-layout';
import type { OnProgress } from '../util/progress';
import type { AssetBuildParameters, AssetImageResult } from '../asset/asset-image-result';
import type { AssetBuildOptions } from '../asset/build-options';
import { assetStorePaths, type AssetStorePaths } from '../asset/asset-store';
import { assembleAssetImage, cachedEntriesOf, layerDigestsOf } from '../assembly/build-asset-image';
import { buildEnvironment, DEFAULT_PLATFORM } from '../asset/environment';
import { parsePlatform, tryParsePlatform, type Platform } from '../oci/platform';
import { compressionLibrary } from '../oci/compression';
import { prepareAsset, withStatCache } from '../assembly/prepare-asset';

export type ImageOrigin = 'layout' | 'sources' | 'registry';

export interface ResolveAssetImageOptions {
  /**
   * Build parameters for a result that does not record its own (an image.json written
   * before they were): see `unrecordedBuildDefaults`. A result's `build` always wins.
   */
  mtime?: number;
  platform?: Platform;
  largeFileThreshold?: number;
  /** Registry client options for step 3; `false` never contacts a registry. */
  pull?: PullOptions | false;
  onProgress?: OnProgress;
}

export class AssetImageUnavailableError extends Error {
  override readonly name = 'AssetImageUnavailableError';
  constructor(
    readonly project: string,
    readonly manifestDigest: Digest,
    readonly attempts: { origin: ImageOrigin; reason: string }[],
  ) {
    super(`${project}: no bytes found for ${manifestDigest}:\n${attempts.map((a) => `  - ${a.origin}: ${a.reason}`).join('\n')}`);
  }
}

export async function resolveAssetImage(
  workspaceRoot: string,
  manifestFile: string,
  expected: AssetImageResult,
  options: ResolveAssetImageOptions = {},
): Promise<{ image: Image; origin: ImageOrigin }> {
  const store = assetStorePaths(workspaceRoot);
  const attempts: { origin: ImageOrigin; reason: string }[] = [];

  const fromLayout = await completeLayoutImage(store.ociLayout, expected.manifestDigest).catch((error: unknown) => {
    attempts.push({ origin: 'layout', reason: message(error) });
    return undefined;
  });
  if (fromLayout) return { image: fromLayout, origin: 'layout' };

  try {
    const fromSources = await rebuildFromSources(workspaceRoot, store, manifestFile, expected, options);
    if ('image' in fromSources) return { image: fromSources.image, origin: 'sources' };
    attempts.push({ origin: 'sources', reason: fromSources.mismatch });
  } catch (error) {
    attempts.push({ origin: 'sources', reason: message(error) });
  }

  if (options.pull !== false) {
    try {
      const ref = withDigest(parseImageReference(expected.image), expected.manifestDigest);
      await pullImageToLayout(ref, store.ociLayout, { ...(options.pull ?? {}), onProgress: options.onProgress });
      const pulled = await completeLayoutImage(store.ociLayout, expected.manifestDigest);
      if (pulled) return { image: pulled, origin: 'registry' };
      attempts.push({ origin: 'registry', reason: 'pulled, but the layout is still incomplete' });
    } catch (error) {
      attempts.push({ origin: 'registry', reason: message(error) });
    }
  }
  throw new AssetImageUnavailableError(expected.project, expected.manifestDigest, attempts);
}

/** The build options of a rebuild of `expected`: its recorded parameters, each missing one from `fallback`. */
export function rebuildOptions(
  workspaceRoot: string,
  store: AssetStorePaths,
  expected: Pick<AssetImageResult, 'build'>,
  fallback: Pick<ResolveAssetImageOptions, 'mtime' | 'platform' | 'largeFileThreshold'> = {},
): AssetBuildOptions {
  const build = rebuildParameters(expected, fallback);
  return {
    workspaceRoot,
    store,
    ci: false,
    mtime: build.mtime ?? 0,
    // A single-platform result: its one platform.
    platforms: [build.platform ?? parsePlatform(DEFAULT_PLATFORM)],
    largeFileThreshold: build.largeFileThreshold,
    ...(build.compressionLevel !== undefined ? { compressionLevel: build.compressionLevel } : {}),
  };
}

/** A rebuild from the asset's files with the recorded parameters: the image when it gives exactly the promised digest. */
async function rebuildFromSources(
  workspaceRoot: string,
  store: AssetStorePaths,
  manifestFile: string,
  expected: AssetImageResult,
  options: ResolveAssetImageOptions,
): Promise<{ image: Image } | { mismatch: string }> {
  const buildOptions = rebuildOptions(workspaceRoot, store, expected, options);
  return withStatCache(buildOptions, posix.dirname(manifestFile), async (cache) => {
    const analysis = await prepareAsset(buildOptions, manifestFile, { sources: 'fetch', cache, onProgress: options.onProgress });
    const layerDigests = layerDigestsOf(buildOptions);
    const checked = await assembleAsPromised(expected, analysis.manifest.compression, layerDigests, () =>
      assembleAssetImage(analysis, buildOptions, layerDigests),
    );
    return 'mismatch' in checked ? checked : { image: checked.built };
  });
}

/**
 * `assemble()` when it gives exactly `expected`'s digest (an image's manifest or an index). When it does
 * not, layers whose digests came from the layer digest cache and are not the promised ones may have wrong
 * entries (not the files): those are dropped and the asset assembled once more from the bytes.
 */
export async function assembleAsPromised<T extends Image | ImageIndex>(
  expected: AssetImageResult,
  codec: string,
  layerDigests: LayerDigestCache,
  assemble: () => Promise<T>,
): Promise<{ built: T } | { mismatch: string }> {
  let built = await assemble();
  if (digestOfBuilt(built) === expected.manifestDigest) return { built };
  const layers = 'index' in built ? (built.images[0]?.image.layers ?? []) : built.layers;
  const suspects = layers.filter(
    (layer, i) =>
      cachedEntriesOf(layer).length > 0 &&
      (expected.layers[i]?.digest !== layer.descriptor.digest || expected.layers[i]?.diffId !== layer.diffId),
  );
  if (suspects.length > 0) {
    for (const key of new Set(suspects.flatMap((layer) => cachedEntriesOf(layer)))) await layerDigests.delete(key);
    built = await assemble();
    if (digestOfBuilt(built) === expected.manifestDigest) return { built };
  }
  return { mismatch: rebuildMismatchReason(expected, codec, digestOfBuilt(built)) };
}

function digestOfBuilt(built: Image | ImageIndex): Digest {
  return 'index' in built ? built.index.descriptor.digest : built.manifest.descriptor.digest;
}

export interface RebuildParameters {
  mtime?: number;
  platform?: Platform;
  largeFileThreshold?: number;
  compressionLevel?: number;
}

/** What a rebuild of `expected` uses: the parameters it records, each one that is missing or unusable taken from `fallback`. */
export function rebuildParameters(
  expected: Pick<AssetImageResult, 'build'>,
  fallback: Pick<ResolveAssetImageOptions, 'mtime' | 'platform' | 'largeFileThreshold'> = {},
): RebuildParameters {
  const build: Partial<AssetBuildParameters> = expected.build ?? {};
  const platform = typeof build.platform === 'string' ? tryParsePlatform(build.platform) : undefined;
  const level = build.compression?.level;
  return {
    mtime: isWhole(build.mtime) ? build.mtime : fallback.mtime,
    platform: platform ?? fallback.platform,
    largeFileThreshold:
      isWhole(build.largeFileThreshold) && build.largeFileThreshold > 0 ? build.largeFileThreshold : fallback.largeFileThreshold,
    ...(typeof level === 'number' ? { compressionLevel: level } : {}),
  };
}

/**
 * The fallback for a result without recorded build parameters: what the build would
 * use today (SOURCE_DATE_EPOCH, the asset-image target's `platform` and `largeFileThreshold`).
 * Nothing (and no reading of the environment) when the result records them.
 */
export function unrecordedBuildDefaults(
  expected: Pick<AssetImageResult, 'build'>,
  targetOptions: Record<string, unknown> = {},
  env: NodeJS.ProcessEnv = process.env,
): Pick<ResolveAssetImageOptions, 'mtime' | 'platform' | 'largeFileThreshold'> {
  if (expected.build) return {};
  // Such a result predates platforms: its image had the target's `platform` (default linux/amd64).
  const { mtime, dockerPlatform, largeFileThreshold } = buildEnvironment(targetOptions, env);
  return {
    mtime,
    platform: dockerPlatform ?? parsePlatform(DEFAULT_PLATFORM),
    ...(largeFileThreshold !== undefined ? { largeFileThreshold } : {}),
  };
}

function rebuildMismatchReason(expected: AssetImageResult, codec: string, got: Digest): string {
  const build = expected.build;
  const base = `the files now give ${got}: they changed since the build (run the asset-image target again)`;
  if (!build) {
    return `${base}; note: this image.json records no build parameters, so SOURCE_DATE_EPOCH, platform and largeFileThreshold were taken from today's settings, which may differ from the build's`;
  }
  if (build.compression?.codec && build.compression.codec !== codec)
    return `${base}; asset.json's compression is now ${codec}, the build used ${build.compression.codec}`;
  const library = compressionLibrary(build.compression?.codec ?? 'none');
  if (build.compression?.library && library && build.compression.library !== library) {
    return `${base}; or the compressor differs: the build used ${build.compression.library}, this Node.js has ${library}`;
  }
  return base;
}

function isWhole(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0;
}

/**
 * The image of `digest` (of an index: its `platform` variant, default linux/amd64) from the layout store when it holds the manifest,
 * config and every layer blob (sizes checked; digests were verified on write);
 * undefined otherwise.
 */
export async function completeLayoutImage(dir: string, digest: Digest, platform?: Platform): Promise<Image | undefined> {
  const image = await readIfInLayout(() => readOciLayoutImage(dir, digest, platform));
  return image && (await holdsLayers(dir, [image])) ? image : undefined;
}

/** What `read` gives, or undefined when the layout lacks it (no such ref or digest, no layout). */
export async function readIfInLayout<T>(read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch (error) {
    if ((error as { name?: string }).name === 'OciLayoutRefNotFoundError' || (error as NodeJS.ErrnoException).code === 'ENOENT')
      return undefined;
    throw error;
  }
}

/** Whether the layout holds a blob of the right size for every layer of `images`. */
export async function holdsLayers(dir: string, images: readonly Image[]): Promise<boolean> {
  for (const image of images) {
    for (const layer of image.layers) {
      const info = await stat(blobPath(dir, layer.descriptor.digest)).catch(() => undefined);
      if (info?.size !== layer.descriptor.size) return false;
    }
  }
  return true;
}

export function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
