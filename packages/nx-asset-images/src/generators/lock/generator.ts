import { logger, type Tree } from '../../nx/devkit';
import { posix } from 'node:path';
import { analyzeAsset } from '../../build/analyze-asset';
import { assetStorePaths } from '../../build/asset-store';
import { ASSET_LOCK_FILE, diffLock, formatLockDiff, isLockDiffEmpty, parseAssetLock, serializeAssetLock } from '../../lock/lock';
import { parseAssetManifest } from '../../manifest/manifest';
import { StatCache } from '../../hashing/stat-cache';
import { sourceDateEpoch } from '../../build/environment';
import { findAssetProjects } from '../asset/asset-projects';

export interface LockSyncResult {
  outOfSyncMessage?: string;
  outOfSyncDetails?: string[];
}

/**
 * `nx-asset-images:lock`, a global sync generator (`sync.globalGenerators` in nx.json):
 * `nx sync` rewrites every stale asset.lock.json, `nx sync:check` fails when one is stale.
 * Content is read from disk (weights are usually gitignored, so not in the Tree) through
 * the stat cache: unchanged files are only stat'ed.
 */
export async function lockGenerator(tree: Tree): Promise<LockSyncResult> {
  const workspaceRoot = tree.root;
  const store = assetStorePaths(workspaceRoot);
  const cache = await StatCache.load(store.statCache);
  const details: string[] = [];
  try {
    for (const asset of await findAssetProjects(tree)) {
      let manifest;
      try {
        manifest = parseAssetManifest(tree.read(asset.manifestPath, 'utf-8') ?? '', asset.manifestPath, asset.root);
      } catch (error) {
        // A broken manifest is reported by its asset-image target; it must not stop the other locks.
        logger.warn(`nx-asset-images:lock skipped ${asset.manifestPath}: ${(error as Error).message}`);
        continue;
      }
      const analysis = await analyzeAsset(manifest, { workspaceRoot, store, cache, mtime: sourceDateEpoch(), sources: 'skip' });
      const lockPath = posix.join(asset.root, ASSET_LOCK_FILE);
      const text = tree.read(lockPath, 'utf-8');
      const existing = text === null ? undefined : parseAssetLock(text, lockPath);
      const wanted = serializeAssetLock(analysis.lock);
      if (existing === undefined && Object.keys(analysis.lock.files).length === 0) continue;
      if (existing !== undefined && isLockDiffEmpty(diffLock(existing, analysis.lock))) continue;
      tree.write(lockPath, wanted);
      details.push(existing ? `${lockPath}:\n${formatLockDiff(diffLock(existing, analysis.lock))}` : `${lockPath}: missing`);
    }
  } finally {
    await cache.save();
  }
  if (details.length === 0) return {};
  return {
    outOfSyncMessage: `${details.length} asset lock file(s) do not match the asset content. Run \`nx sync\` (or the asset-image target) and commit them.`,
    outOfSyncDetails: details,
  };
}

export default lockGenerator;
