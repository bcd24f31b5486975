/**
 * A cache hit must never leave a user without the image it promises. Given the
 * small result Nx cached (digests and tags), find the image's bytes:
 *   1. the workspace's OCI layout store, when it holds the manifest and every blob;
 *   2. a rebuild from the asset's sources (stat cache: nothing is read when unchanged),
 *      accepted only when it yields exactly the promised manifest digest;
 *   3. the registry, by digest, into the layout store (a fresh CI runner without the weights).
 */
import { readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { Digest, Image } from '../oci/image';
import { parseImageReference, withDigest } from '../oci/image-reference';
import { pullImageToLayout, type PullOptions } from '../transports/registry';
import { blobPath, readOciLayoutImage } from '../transports/oci-layout';
import type { OnProgress } from '../util/progress';
import { analyzeAsset } from './analyze-asset';
import type { AssetImageResult } from './asset-image-result';
import { assetStorePaths } from './asset-store';
import { buildAssetImage } from './build-asset-image';
import { LayerDigestCache } from './layer-digest-cache';
import { parseAssetManifest } from './manifest';
import { StatCache } from './stat-cache';

export type ImageOrigin = 'layout' | 'sources' | 'registry';

export interface ResolveAssetImageOptions {
  /** Seconds since the epoch used by the build (SOURCE_DATE_EPOCH). */
  mtime?: number;
  platform?: { os: string; architecture: string; variant?: string };
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
    super(
      `${project}: no bytes found for ${manifestDigest}:\n${attempts.map((a) => `  - ${a.origin}: ${a.reason}`).join('\n')}`,
    );
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
    const manifest = parseAssetManifest(readFileSync(join(workspaceRoot, manifestFile), 'utf8'), manifestFile, posix.dirname(manifestFile));
    const cache = await StatCache.load(store.statCache);
    try {
      const analysis = await analyzeAsset(manifest, {
        workspaceRoot,
        store,
        cache,
        mtime: options.mtime,
        largeFileThreshold: options.largeFileThreshold,
        sources: 'fetch',
        onProgress: options.onProgress,
      });
      const image = await buildAssetImage(analysis, {
        mtime: options.mtime,
        platform: options.platform,
        layerDigests: new LayerDigestCache(join(store.root, 'layer-digests')),
      });
      if (image.manifest.descriptor.digest === expected.manifestDigest) return { image, origin: 'sources' };
      attempts.push({
        origin: 'sources',
        reason: `the files now give ${image.manifest.descriptor.digest}: they changed since the build (run the asset-image target again)`,
      });
    } finally {
      await cache.save();
    }
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

/** The image from the layout when its manifest, config and every layer blob are there (sizes checked; digests were verified on write). */
async function completeLayoutImage(dir: string, digest: Digest): Promise<Image | undefined> {
  let image: Image;
  try {
    image = await readOciLayoutImage(dir, digest);
  } catch (error) {
    if ((error as { name?: string }).name === 'OciLayoutRefNotFoundError' || (error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  for (const layer of image.layers) {
    const info = await stat(blobPath(dir, layer.descriptor.digest)).catch(() => undefined);
    if (info?.size !== layer.descriptor.size) return undefined;
  }
  return image;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
