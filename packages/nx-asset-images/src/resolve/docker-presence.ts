/**
 * Make an asset's build present in Docker under the references an app needs,
 * at exactly that build: a tag that names another image (an older build, a
 * registry copy, anything re-tagged) is stale and gets replaced.
 */
import type { Image } from '../oci/image';
import type { DockerCliOptions } from '../transports/docker-cli';
import { dockerImageId, dockerLoad, dockerTag, type DockerLoadResult } from '../transports/docker-load';
import type { OnProgress } from '../util/progress';
import type { AssetImageResult } from '../asset/asset-image-result';
import { resolveAssetImage, type ImageOrigin, type ResolveAssetImageOptions } from './resolve-asset-image';

export type DockerPresence = 'present' | 'missing' | 'stale';

/**
 * What Docker's image id for a reference says about a build: the classic
 * image store's id is the config digest, containerd's the manifest digest.
 */
export function dockerPresence(
  imageId: string | undefined,
  result: Pick<AssetImageResult, 'configDigest' | 'manifestDigest'>,
): DockerPresence {
  if (imageId === undefined || imageId === '') return 'missing';
  return imageId === result.configDigest || imageId === result.manifestDigest ? 'present' : 'stale';
}

/**
 * The id under which Docker holds the build, or undefined: the config digest
 * (classic image store), else the manifest digest (containerd image store).
 */
export async function heldBuildId(
  result: Pick<AssetImageResult, 'configDigest' | 'manifestDigest'>,
  options: DockerCliOptions = {},
): Promise<string | undefined> {
  for (const candidate of [result.configDigest, result.manifestDigest]) {
    if (dockerPresence(await dockerImageId(candidate, options), result) === 'present') return candidate;
  }
  return undefined;
}

export interface EnsureInDockerOutcome {
  /** Each needed reference and what Docker had before. */
  before: Record<string, DockerPresence>;
  /** What was done: nothing, re-tagging the image Docker already had by id, or a load (with where the bytes came from). */
  action: 'none' | 'tagged' | { loaded: ImageOrigin; layersSent: number; layers: number };
}

export class AssetNotInDockerError extends Error {
  override readonly name = 'AssetNotInDockerError';
  constructor(
    readonly project: string,
    readonly reference: string,
    readonly expected: string,
    readonly actual: string | undefined,
  ) {
    super(`${project}: after loading, ${reference} is ${actual ?? 'absent'} in Docker, not ${expected}`);
  }
}

export interface EnsureInDockerOptions extends DockerCliOptions {
  resolve?: ResolveAssetImageOptions;
  onProgress?: OnProgress;
  /** Injected for tests; default resolveAssetImage. */
  resolveImage?: (workspaceRoot: string, manifestFile: string, result: AssetImageResult) => Promise<{ image: Image; origin: ImageOrigin }>;
  /** Loads the image instead of `dockerLoad` (a build's load that has streamed the layers already: `StreamedLoadPass`). */
  loadImage?: (image: Image, refs: readonly string[]) => Promise<DockerLoadResult>;
}

/**
 * Ensures every reference in `needed` names the build `result` in Docker.
 * When Docker already holds the build (by id) the asset's references are
 * re-tagged (no bytes move); otherwise the image is found with
 * `resolveAssetImage` (layout store, verified rebuild, registry) and
 * `docker load`ed with all of the asset's references. Verified afterwards.
 */
export async function ensureAssetImageInDocker(
  workspaceRoot: string,
  manifestFile: string,
  result: AssetImageResult,
  needed: readonly string[],
  options: EnsureInDockerOptions = {},
): Promise<EnsureInDockerOutcome> {
  const before: Record<string, DockerPresence> = {};
  for (const ref of needed) before[ref] = dockerPresence(await dockerImageId(ref, options), result);
  if (Object.values(before).every((p) => p === 'present')) return { before, action: 'none' };

  let action: EnsureInDockerOutcome['action'];
  const held = await heldBuildId(result, options);
  if (held !== undefined) {
    for (const ref of new Set([...result.references, ...needed])) await dockerTag(held, ref, options);
    action = 'tagged';
  } else {
    const resolve = options.resolveImage ?? ((root, file, res) => resolveAssetImage(root, file, res, options.resolve));
    const { image, origin } = await resolve(workspaceRoot, manifestFile, result);
    const refs = [...new Set([...result.references, ...needed])];
    // The images these tags name now (usually the previous build) share the unchanged bottom layers.
    const loaded = options.loadImage
      ? await options.loadImage(image, refs)
      : await dockerLoad(image, refs, { ...options, onProgress: options.onProgress, reuseLayersOf: refs });
    action = { loaded: origin, layersSent: loaded.layersSent, layers: image.layers.length };
  }
  for (const ref of needed) {
    const id = await dockerImageId(ref, options);
    if (dockerPresence(id, result) !== 'present') throw new AssetNotInDockerError(result.project, ref, result.configDigest, id);
  }
  return { before, action };
}
