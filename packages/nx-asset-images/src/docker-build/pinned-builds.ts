/**
 * Builds a Dockerfile pins by digest that are not the asset's current one:
 * found in the layout store or pulled from the registry into it, and loaded
 * into Docker under their content tag.
 */
import type { Platform } from '../oci/platform';
import { ensurePinnedInDocker, PinnedImageUnavailableError, resolvePinnedImage } from '../resolve/pinned-image';
import type { OnProgress } from '../util/progress';
import { DigestPinError, type DigestPin } from './asset-uses';

/** A pin of a build other than the asset's current one: from the layout store or the registry, into Docker under its content tag. */
export async function loadPinnedBuild(
  root: string,
  pin: DigestPin,
  dockerfile: string,
  platform: Platform,
  onProgress: OnProgress,
): Promise<{ state: 'present' | 'loaded'; origin: 'layout' | 'registry' }> {
  const { image, origin } = await pinnedBuildOf(root, pin, dockerfile, platform, onProgress);
  const state = await ensurePinnedInDocker(image, pin.dockerReference, { onProgress });
  return { state, origin };
}

/**
 * The pinned build, complete in the layout store (pulled from the registry into it when only the registry has it),
 * as the variant of `platform`; a pin nobody holds is a DigestPinError naming the Dockerfile line and the fix.
 */
export async function pinnedBuildOf(
  root: string,
  pin: DigestPin,
  dockerfile: string,
  platform: Platform,
  onProgress: OnProgress,
): Promise<Awaited<ReturnType<typeof resolvePinnedImage>>> {
  const ref = { ...pin.use.reference, digest: pin.digest };
  try {
    return await resolvePinnedImage(root, ref, { onProgress, platform });
  } catch (error) {
    if (!(error instanceof PinnedImageUnavailableError)) throw error;
    throw new DigestPinError(
      dockerfile,
      pin.use.line,
      pin.use.resolved,
      `pins a build of asset "${pin.use.asset.projectName}" that is neither in this workspace's store nor in the registry (${error.message}). ` +
        `Push that build where it was made (\`nx run ${pin.use.asset.projectName}:asset-push\`), or pin a build that exists (the current one is in dist/asset-images/${pin.use.asset.projectName}/image.json).`,
      { cause: error },
    );
  }
}
