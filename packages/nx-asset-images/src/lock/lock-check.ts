import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic-write';
import { AssetLockError } from '../errors/asset-errors';
import { ASSET_LOCK_FILE, diffLock, formatLockDiff, isLockDiffEmpty, readAssetLock, serializeAssetLock, type AssetLock } from './lock';

export type LockOutcome = 'unchanged' | 'written';

/**
 * Brings `asset.lock.json` in line with the content, like `npm install` does
 * package-lock.json; with `frozen` (CI), a lock that does not match is an error,
 * like `npm ci`, naming what differs.
 */
export async function reconcileAssetLock(
  workspaceRoot: string,
  projectRoot: string,
  actual: AssetLock,
  frozen: boolean,
): Promise<LockOutcome> {
  const file = join(projectRoot, ASSET_LOCK_FILE);
  const path = join(workspaceRoot, file);
  const existing = await readAssetLock(path);
  if (existing && isLockDiffEmpty(diffLock(existing, actual))) return 'unchanged';
  if (!existing && Object.keys(actual.files).length === 0) return 'unchanged';
  if (frozen) {
    const detail = existing ? formatLockDiff(diffLock(existing, actual)) : 'the lock file is missing';
    throw new AssetLockError(
      file,
      `does not match the asset's files (CI is set, so it is not rewritten):\n${detail}\nRun the asset-image target (or \`nx sync\`) where the files are, and commit ${file}.`,
    );
  }
  await writeFileAtomic(path, serializeAssetLock(actual));
  return 'written';
}
