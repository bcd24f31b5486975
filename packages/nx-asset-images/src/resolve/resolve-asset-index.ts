/**
 * `resolveAssetImage` for a multi-platform build: the index the result
 * promises with every platform's image, from (1) the layout store when it
 * holds the index and every blob, (2) a rebuild from the asset's files with
 * the recorded parameters and platforms, accepted only at exactly the promised
 * index digest, (3) the registry by digest (every platform) into the store.
 */
import { posix } from 'node:path';
import type { AssetImageResult } from '../asset/asset-image-result';
import { assetStorePaths } from '../asset/asset-store';
import { assembleAssetIndex, layerDigestsOf } from '../assembly/build-asset-image';
import { parsePlatform } from '../oci/platform';
import { prepareAsset, withStatCache } from '../assembly/prepare-asset';
import { selectPlatformImage, type ImageIndex } from '../oci/image-index';
import type { Image } from '../oci/image';
import { parseImageReference, withDigest } from '../oci/image-reference';
import { readOciLayoutIndex } from '../transports/oci-layout';
import { pullIndexToLayout, type PullOptions } from '../transports/registry';
import type { OnProgress } from '../util/progress';
import {
  AssetImageUnavailableError,
  assembleAsPromised,
  holdsLayers,
  message,
  readIfInLayout,
  rebuildOptions,
  type ImageOrigin,
} from './resolve-asset-image';

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
    const buildOptions = rebuildOptions(workspaceRoot, store, expected);
    const platforms = (expected.platforms ?? []).map((p) => parsePlatform(p.platform));
    const checked = await withStatCache(buildOptions, posix.dirname(manifestFile), async (cache) => {
      const analysis = await prepareAsset(buildOptions, manifestFile, { sources: 'fetch', cache, onProgress: options.onProgress });
      const layerDigests = layerDigestsOf(buildOptions);
      return assembleAsPromised(expected, analysis.manifest.compression, layerDigests, () =>
        assembleAssetIndex(analysis, buildOptions, layerDigests, platforms),
      );
    });
    if ('built' in checked) return { index: checked.built, origin: 'sources' };
    attempts.push({ origin: 'sources', reason: checked.mismatch });
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
  const index = await readIfInLayout(() => readOciLayoutIndex(dir, expected.manifestDigest));
  return index &&
    (await holdsLayers(
      dir,
      index.images.map((entry) => entry.image),
    ))
    ? index
    : undefined;
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
