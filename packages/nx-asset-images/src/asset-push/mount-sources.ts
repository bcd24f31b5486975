/**
 * The repositories of the target registry a push mounts shared layers from:
 * the `mountFrom` option's, else those known to hold some of them (the
 * repository the lock names, the other asset images whose last build shares a
 * layer), see `defaultMountSources`.
 */
import { join, posix } from 'node:path';
import { readAssetImageResult, type AssetImageResult } from '../asset/asset-image-result';
import type { AssetProjectMap } from '../asset/asset-project';
import { ASSET_LOCK_FILE, readAssetLock } from '../lock/lock';
import type { Digest } from '../oci/image';
import { parseImageReference } from '../oci/image-reference';
import { defaultMountSources, explicitMountSources, resultRepository, type MountCandidate } from './push-plan';

export async function mountSources(
  root: string,
  project: string,
  manifestFile: string,
  result: AssetImageResult,
  explicit: readonly string[] | undefined,
  assets: AssetProjectMap,
): Promise<string[]> {
  const target = resultRepository(result);
  if (explicit) return explicitMountSources(target, explicit);
  return defaultMountSources(
    target,
    result.layers.map((l) => l.digest),
    [...(await lockedRepository(root, manifestFile)), ...(await mountCandidates(root, project, assets))],
  );
}

/**
 * The repository the committed lock says the layers come from (asset.json's
 * image renamed where the weights are absent): mounted from first, since it
 * holds them.
 */
async function lockedRepository(root: string, manifestFile: string): Promise<MountCandidate[]> {
  const lock = await readAssetLock(join(root, posix.dirname(manifestFile), ASSET_LOCK_FILE)).catch(() => undefined);
  const recorded = lock?.image?.repository;
  if (recorded === undefined) return [];
  return [{ reference: parseImageReference(recorded), layers: lock!.image!.layers.map((l) => l.digest as Digest) }];
}

/** The other assets' repositories and, when their results are on disk, their layers. */
async function mountCandidates(root: string, self: string, assets: AssetProjectMap): Promise<MountCandidate[]> {
  const out: MountCandidate[] = [];
  for (const asset of assets.values()) {
    if (asset.projectName === self) continue;
    const other = await readAssetImageResult(join(root, asset.resultDir));
    out.push({ reference: asset.reference, ...(other ? { layers: other.layers.map((l) => l.digest) } : {}) });
  }
  return out;
}
