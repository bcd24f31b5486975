/**
 * `resolveAssetImage` for a multi-platform build: the index the result
 * promises with every platform's image, from (1) the layout store when it
 * holds the index and every blob, (2) a rebuild from the asset's files with
 * the recorded parameters and platforms, accepted only at exactly the promised
 * index digest, (3) the registry by digest (every platform) into the store.
 */
import { stat } from 'node:fs/promises';
import type { AssetImageResult } from '../build/asset-image-result';
import type { AssetBuildOptions } from '../build/build-options';
import { assetStorePaths } from '../build/asset-store';
import { assembleAssetIndex, layerDigestsOf } from '../build/build-asset-image';
import { DEFAULT_PLATFORM, parsePlatform } from '../build/environment';
import { prepareAsset, withStatCache } from '../build/prepare-asset';
import { selectPlatformImage, type ImageIndex } from '../oci/image-index';
import type { Image } from '../oci/image';
import { parseImageReference, withDigest } from '../oci/image-reference';
import { blobPath } from '../store/blob-store';
import { readOciLayoutIndex } from '../transports/oci-layout';
import { pullIndexToLayout, type PullOptions } from '../transports/registry';
import type { OnProgress } from '../util/progress';
import { AssetImageUnavailableError, rebuildParameters, type ImageOrigin } from './resolve-asset-image';

export async function resolveAssetIndex(
  workspaceRoot: string,
  manifestFile: string,
  expected: AssetImageResult,
  options: { pull?: PullOptions | false; onProgress?: OnProgress } = {},
): Promise<{ index: ImageIndex; origin: ImageOrigin }> {
  const store = assetStorePaths(workspaceRoot);
  const attempts: { origin: ImageOrigin; reason: string }[] = [];
  const fromLayout = await completeLayoutIndex(store.ociLayout, expected).catch((error: unknown) => {
    attempts.push({ origin: 'layout', reason: message(error) });
    return undefined;
  });
  if (fromLayout) return { index: fromLayout, origin: 'layout' };

  try {
    const build = rebuildParameters(expected);
    const buildOptions: AssetBuildOptions = {
      workspaceRoot,
      store,
      ci: false,
      mtime: build.mtime ?? 0,
      platform: build.platform ?? parsePlatform(DEFAULT_PLATFORM),
      largeFileThreshold: build.largeFileThreshold,
      ...(build.compressionLevel !== undefined ? { compressionLevel: build.compressionLevel } : {}),
    };
    const platforms = (expected.platforms ?? []).map((p) => parsePlatform(p.platform));
    const index = await withStatCache(buildOptions, async (cache) => {
      const analysis = await prepareAsset(buildOptions, manifestFile, { sources: 'fetch', cache, onProgress: options.onProgress });
      return assembleAssetIndex(analysis, buildOptions, layerDigestsOf(buildOptions), platforms);
    });
    if (index.index.descriptor.digest === expected.manifestDigest) return { index, origin: 'sources' };
    attempts.push({ origin: 'sources', reason: `the files now give ${index.index.descriptor.digest}: they changed since the build` });
  } catch (error) {
    attempts.push({ origin: 'sources', reason: message(error) });
  }

  if (options.pull !== false) {
    try {
      const ref = withDigest(parseImageReference(expected.image), expected.manifestDigest);
      await pullIndexToLayout(ref, store.ociLayout, {
        ...(options.pull ?? {}),
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      });
      const pulled = await completeLayoutIndex(store.ociLayout, expected);
      if (pulled) return { index: pulled, origin: 'registry' };
      attempts.push({ origin: 'registry', reason: 'pulled, but the layout is still incomplete' });
    } catch (error) {
      attempts.push({ origin: 'registry', reason: message(error) });
    }
  }
  throw new AssetImageUnavailableError(expected.project, expected.manifestDigest, attempts);
}

async function completeLayoutIndex(dir: string, expected: AssetImageResult): Promise<ImageIndex | undefined> {
  let index: ImageIndex;
  try {
    index = await readOciLayoutIndex(dir, expected.manifestDigest);
  } catch (error) {
    if ((error as { name?: string }).name === 'OciLayoutRefNotFoundError' || (error as NodeJS.ErrnoException).code === 'ENOENT')
      return undefined;
    throw error;
  }
  for (const { image } of index.images) {
    for (const layer of image.layers) {
      const info = await stat(blobPath(dir, layer.descriptor.digest)).catch(() => undefined);
      if (info?.size !== layer.descriptor.size) return undefined;
    }
  }
  return index;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The image of `platform` from the multi-platform build `expected` (resolved as above). */
export async function variantFromIndex(
  workspaceRoot: string,
  manifestFile: string,
  expected: AssetImageResult,
  platform: string,
  options: { onProgress?: OnProgress } = {},
): Promise<{ image: Image; origin: ImageOrigin }> {
  const { index, origin } = await resolveAssetIndex(workspaceRoot, manifestFile, expected, options);
  const chosen = selectPlatformImage(index, parsePlatform(platform));
  if (!chosen)
    throw new AssetImageUnavailableError(expected.project, expected.manifestDigest, [{ origin, reason: `no ${platform} variant` }]);
  return { image: chosen.image, origin };
}
