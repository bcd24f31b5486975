import { logger, readNxJson, type Tree } from '../../nx/devkit';
import { posix } from 'node:path';
import { assetBuildOptions } from '../../asset/build-options';
import { prepareAsset } from '../../assembly/prepare-asset';
import { ASSET_LOCK_FILE, diffLock, formatLockDiff, isLockDiffEmpty, parseAssetLock, serializeAssetLock } from '../../lock/lock';
import { AssetManifestError } from '../../errors/asset-errors';
import { lockWithBuilt } from '../../asset/lock-pin';
import { assembleAsset, layerDigestsOf } from '../../assembly/build-asset-image';
import { findAssetProjects } from '../asset/asset-projects';
import { normalizePluginOptions } from '../../nx/plugin-options';
import { pluginOptionsOf } from '../init/plugin-registration';

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
  // The plugin's options (platforms, largeFileThreshold) as the asset-image targets get them: the same digests.
  const options = assetBuildOptions(tree.root, normalizePluginOptions(pluginOptionsOf(readNxJson(tree))));
  const details: string[] = [];
  // Each asset through its own stat cache (loaded and saved by prepareAsset).
  for (const asset of await findAssetProjects(tree)) {
    let analysis;
    try {
      analysis = await prepareAsset(options, asset.manifestPath, {
        sources: 'skip',
        text: tree.read(asset.manifestPath, 'utf-8') ?? '',
      });
    } catch (error) {
      // A broken manifest is reported by its asset-image target; it must not stop the other locks.
      if (!(error instanceof AssetManifestError)) throw error;
      logger.warn(`nx-asset-images:lock skipped ${asset.manifestPath}: ${error.message}`);
      continue;
    }
    const lockPath = posix.join(asset.root, ASSET_LOCK_FILE);
    const text = tree.read(lockPath, 'utf-8');
    const existing = text === null ? undefined : parseAssetLock(text, lockPath);
    if (existing === undefined && Object.keys(analysis.lock.files).length === 0) continue;
    if (existing !== undefined && isLockDiffEmpty(diffLock(existing, analysis.lock))) continue;
    // The image pin needs every layer: with remote sources (not fetched here) the next asset-image build adds it.
    // Absent files are no obstacle when the lock pins their layers (their bytes are not needed for the digests);
    // leaving the pin out would lose it, and with it the way to build or pull them.
    const assemblable = analysis.layers.every((layer) => layer.pinned !== undefined || layer.files.every((file) => !file.absent));
    const lock =
      analysis.manifest.sources.length === 0 && assemblable
        ? lockWithBuilt(analysis, await assembleAsset(analysis, options, layerDigestsOf(options)), options.mtime)
        : analysis.lock;
    tree.write(lockPath, serializeAssetLock(lock));
    details.push(existing ? `${lockPath}:\n${formatLockDiff(diffLock(existing, analysis.lock))}` : `${lockPath}: missing`);
  }
  if (details.length === 0) return {};
  return {
    outOfSyncMessage: `${details.length} asset lock file(s) do not match the asset content. Run \`nx sync\` (or the asset-image target) and commit them.`,
    outOfSyncDetails: details,
  };
}

export default lockGenerator;
