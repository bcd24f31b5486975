#!/usr/bin/env node
/**
 * Nx runtime input of the `asset-image` target: prints one line that changes
 * exactly when the asset's local content changes. Run by Nx from the workspace
 * root with the asset's folder as argument. Hashes come from the stat cache, so
 * unchanged files are only stat'ed; a changed file is read once, and the layer
 * digest is computed in the same read for the build that follows.
 */
import { readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { analyzeAsset } from '../build/analyze-asset';
import { assetStorePaths } from '../build/asset-store';
import { contentKey } from '../build/content-key';
import { parseAssetManifest } from '../manifest/manifest';
import { StatCache } from '../hashing/stat-cache';
import { recordHashStats } from '../hashing/hash-stats';
import { sha256Digest } from '../oci/digest';
import { sourceDateEpoch } from '../build/environment';

// The builder's version is part of the key: a new release may lay out images differently.
const PLUGIN_VERSION = `nx-asset-images@${(require('../../package.json') as { version: string }).version}`;

export async function assetContentKeyLine(workspaceRoot: string, projectRoot: string, largeFileThreshold?: number): Promise<string> {
  const manifestFile = posix.join(projectRoot, 'asset.json');
  try {
    const manifest = parseAssetManifest(readFileSync(join(workspaceRoot, manifestFile), 'utf8'), manifestFile, projectRoot);
    const store = assetStorePaths(workspaceRoot);
    const cache = await StatCache.load(store.statCache);
    try {
      const analysis = await analyzeAsset(manifest, { workspaceRoot, store, cache, mtime: sourceDateEpoch(), largeFileThreshold, sources: 'skip' });
      return `${PLUGIN_VERSION} content ${contentKey(analysis)}`;
    } finally {
      await cache.save();
      recordHashStats('asset-content-key');
    }
  } catch (error) {
    // Not this script's job to report: the task runs and its executor reports the error.
    // The key still differs per message so a fixed asset is never a cache hit of a broken one.
    return `error ${sha256Digest(error instanceof Error ? error.message : String(error))}`;
  }
}

if (require.main === module) {
  const projectRoot = process.argv[2];
  if (!projectRoot) {
    process.stderr.write('usage: asset-content-key <asset folder relative to the workspace root>\n');
    process.exit(2);
  }
  const threshold = process.argv[3] ? Number(process.argv[3]) : undefined;
  assetContentKeyLine(process.cwd(), projectRoot, threshold).then((line) => process.stdout.write(`${line}\n`));
}
