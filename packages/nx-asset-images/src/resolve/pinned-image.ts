/**
 * A digest-pinned reference to an asset build other than its current one
 * (`COPY --from=<repo>@sha256:<older>`): found in the workspace's layout
 * store, else pulled from the registry by that digest into the store, and
 * loaded into Docker under its content tag, which the app's build then uses.
 */
import type { Digest, Image } from '../oci/image';
import { familiarImageReference, withTag, withoutTagOrDigest, withDigest, type ImageReference } from '../oci/image-reference';
import { pullIndexToLayout, type PullOptions } from '../transports/registry';
import type { Platform } from '../oci/platform';
import { dockerImageId, dockerLoad } from '../transports/docker-load';
import type { DockerCliOptions } from '../transports/docker-cli';
import type { OnProgress } from '../util/progress';
import { assetStorePaths } from '../asset/asset-store';
import { contentTagFor } from '../asset/image-references';
import { completeLayoutImage } from './resolve-asset-image';
import { dockerPresence } from './docker-presence';

export class PinnedImageUnavailableError extends Error {
  override readonly name = 'PinnedImageUnavailableError';
  constructor(
    readonly reference: string,
    readonly attempts: { origin: 'layout' | 'registry'; reason: string }[],
    options?: { cause?: unknown },
  ) {
    super(`${reference}: ${attempts.map((a) => `${a.origin}: ${a.reason}`).join('; ')}`, options);
  }
}

/**
 * The image `ref` (which carries a digest) pins: layout store first, then the registry (into the store).
 * A pin of a multi-platform build (an index digest) gives the variant of `platform`, the app's.
 */
export async function resolvePinnedImage(
  workspaceRoot: string,
  ref: ImageReference & { digest: Digest },
  options: { pull?: PullOptions; onProgress?: OnProgress; platform?: Platform } = {},
): Promise<{ image: Image; origin: 'layout' | 'registry' }> {
  const layout = assetStorePaths(workspaceRoot).ociLayout;
  const attempts: PinnedImageUnavailableError['attempts'] = [];
  // A store that is not there yet (no index.json) holds nothing: the registry is next.
  const stored = await completeLayoutImage(layout, ref.digest, options.platform).catch((error: unknown) => {
    attempts.push({ origin: 'layout', reason: error instanceof Error ? error.message : String(error) });
    return undefined;
  });
  if (stored) return { image: stored, origin: 'layout' };
  if (attempts.length === 0) attempts.push({ origin: 'layout', reason: `the workspace's store (${layout}) does not hold it` });
  let cause: unknown;
  try {
    // An index with every platform (the layout keeps the pinned build whole), or a plain manifest.
    await pullIndexToLayout(withDigest(withoutTagOrDigest(ref), ref.digest), layout, {
      ...(options.pull ?? {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
    const pulled = await completeLayoutImage(layout, ref.digest, options.platform);
    if (pulled) return { image: pulled, origin: 'registry' };
    attempts.push({ origin: 'registry', reason: 'pulled, but the store is still incomplete' });
  } catch (error) {
    cause = error;
    attempts.push({ origin: 'registry', reason: error instanceof Error ? error.message : String(error) });
  }
  throw new PinnedImageUnavailableError(familiarImageReference(ref), attempts, cause !== undefined ? { cause } : undefined);
}

/** The Docker reference a pinned build is loaded under: its repository with the digest's content tag. */
export function pinnedDockerReference(ref: ImageReference & { digest: Digest }): string {
  return familiarImageReference(withTag(withoutTagOrDigest(ref), contentTagFor(ref.digest)));
}

/**
 * Puts the pinned image into Docker under `reference` unless Docker already has it there (by config digest on the
 * classic image store, by manifest digest on containerd's).
 */
export async function ensurePinnedInDocker(
  image: Image,
  reference: string,
  options: DockerCliOptions & { onProgress?: OnProgress } = {},
): Promise<'present' | 'loaded'> {
  const build = { configDigest: image.config.descriptor.digest, manifestDigest: image.manifest.descriptor.digest };
  if (dockerPresence(await dockerImageId(reference, options), build) === 'present') return 'present';
  await dockerLoad(image, [reference], { ...options, reuseLayersOf: [reference] });
  const id = await dockerImageId(reference, options);
  if (dockerPresence(id, build) !== 'present') {
    throw new PinnedImageNotInDockerError(reference, build, id);
  }
  return 'loaded';
}

export class PinnedImageNotInDockerError extends Error {
  override readonly name = 'PinnedImageNotInDockerError';
  constructor(
    readonly reference: string,
    readonly expected: { configDigest: string; manifestDigest: string },
    readonly actual: string | undefined,
  ) {
    super(
      `after loading, ${reference} is ${actual ?? 'absent'} in Docker, not the pinned build ` +
        `(${expected.configDigest} on the classic image store, ${expected.manifestDigest} on containerd's)`,
    );
  }
}
