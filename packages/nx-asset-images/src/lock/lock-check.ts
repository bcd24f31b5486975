import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic-write';
import { AssetLockError } from '../errors/asset-errors';
import {
  ASSET_LOCK_FILE,
  diffLock,
  formatLockDiff,
  isLockDiffEmpty,
  readAssetLock,
  sameLockImage,
  serializeAssetLock,
  type AssetLock,
} from './lock';

export type LockOutcome = 'unchanged' | 'written';

/**
 * Brings `asset.lock.json` in line with the content, like `npm install` does
 * package-lock.json. With `frozen` (CI) the lock is never rewritten: files that
 * differ from it are an error naming them, like `npm ci`; a lock whose files
 * match but whose image pin is older (version 1, other build parameters) is
 * left as it is. Absent files (pinned by the lock, not in the folder) are part
 * of `actual` with the lock's values, so they are never a difference.
 * `filesOnly`: only the CI check of the files, nothing written (before the
 * image, and so its pin, is known); outside CI it has nothing to do.
 * `existing`: the lock as the caller read it (null: there was none), so it is
 * not read and parsed again (at 100,000 files that is a tenth of a second).
 */
export async function reconcileAssetLock(
  workspaceRoot: string,
  projectRoot: string,
  actual: AssetLock,
  frozen: boolean,
  check: { filesOnly?: boolean; existing?: AssetLock | null } = {},
): Promise<LockOutcome> {
  if (check.filesOnly && !frozen) return 'unchanged';
  const file = join(projectRoot, ASSET_LOCK_FILE);
  const path = join(workspaceRoot, file);
  const existing = check.existing !== undefined ? (check.existing ?? undefined) : await readAssetLock(path);
  if (!existing && Object.keys(actual.files).length === 0) return 'unchanged';
  const filesMatch = existing !== undefined && isLockDiffEmpty(diffLock(existing, actual));
  if (check.filesOnly && (filesMatch || !frozen)) return 'unchanged';
  if (filesMatch && existing.lockfileVersion === 2 && sameLockImage(existing.image, actual.image)) return 'unchanged';
  if (frozen) {
    if (filesMatch) return 'unchanged';
    const detail = existing ? formatLockDiff(diffLock(existing, actual)) : 'the lock file is missing';
    throw new AssetLockError(
      file,
      `does not match the asset's files (CI is set, so it is not rewritten):\n${detail}\nRun the asset-image target (or \`nx sync\`) where the files are, and commit ${file}.`,
    );
  }
  await writeFileAtomic(path, serializeAssetLock(actual));
  return 'written';
}
