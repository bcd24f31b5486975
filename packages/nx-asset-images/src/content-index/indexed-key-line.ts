/**
 * The lean path of the content key (see `content-key-line.ts`): asset.json's
 * text, one stat of each selected file (the scan) and the lock's text, against
 * the asset's content index row (`key-index-row.ts`). What the
 * `preTasksExecution` hook runs for every asset of a command, so it imports
 * only what that needs: no stat cache, hasher, layer plan or schema.
 */
import { readFileSync } from 'node:fs';
import { historyStampOfCache, statCacheFileOf, statCacheStemOf, type HistoryStamp } from '../hashing/stat-cache';
import { join, posix, resolve } from 'node:path';
import { assetStorePaths, type AssetStorePaths } from '../asset/asset-store';
import { resolveAssetFiles, type AssetFile } from '../manifest/file-set';
import type { AssetManifest } from '../manifest/manifest';
import { ASSET_LOCK_FILE } from '../lock/lock';
import { sha256Digest } from '../oci/digest';
import { keyIndexFileOf, readKeyIndexRow, stampsDigest } from './key-index-row';
import { PLUGIN_VERSION } from '../util/plugin-version';

export interface Located {
  workspaceRoot: string;
  projectRoot: string;
  assetDir: string;
  manifestFile: string;
  indexFile: string;
  /** The asset's stat cache (base) file: its stamp and its journal's stand for what this workspace has seen (see `stampsDigest`). */
  statCacheFile: string;
  /** What the key's full path leaves for the build that follows (`analysis-handover.ts`). */
  handoverFile: string;
}

export function locate(workspaceRoot: string, projectRoot: string, store: AssetStorePaths = assetStorePaths(workspaceRoot)): Located {
  const assetDir = resolve(workspaceRoot, projectRoot);
  return {
    workspaceRoot,
    projectRoot,
    assetDir,
    manifestFile: posix.join(projectRoot, 'asset.json'),
    indexFile: keyIndexFileOf(store.statCache, assetDir),
    statCacheFile: statCacheFileOf(store.statCache, assetDir),
    handoverFile: `${statCacheStemOf(store.statCache, assetDir)}.handover`,
  };
}

/** The stamps of the asset's stat cache files (base and journal), or undefined when it has none. */
export function historyStampOf(at: Located): HistoryStamp | undefined {
  return historyStampOfCache(at.statCacheFile);
}

/** The asset's lock as bytes, or undefined when it has none (or it cannot be read). */
export function readLockBytes(assetDir: string): Buffer | undefined {
  try {
    return readFileSync(join(assetDir, ASSET_LOCK_FILE));
  } catch {
    return undefined;
  }
}

/** sha256 of the asset's lock text, or undefined when it has none. */
export function lockDigestOf(assetDir: string): string | undefined {
  const bytes = readLockBytes(assetDir);
  return bytes === undefined ? undefined : sha256Digest(bytes);
}

/**
 * The folder's files as `selection` picks them, and the stamps digest (`stampsDigest`) of that scan, the lock
 * whose text is `lockDigest` and the stat cache's history: what a content index row and the key's handover are
 * checked against. No sources: a local file colliding with one is a new file, so a new digest, and the full
 * path reports it. Throws what the scan throws.
 */
export async function scanStamps(
  at: Located,
  selection: Pick<AssetManifest, 'files' | 'exclude'>,
  lockDigest: string | undefined,
): Promise<{ files: AssetFile[]; stamps: string }> {
  const manifest = { file: at.manifestFile, projectRoot: at.projectRoot, files: selection.files, exclude: selection.exclude, sources: [] };
  const files = await resolveAssetFiles(manifest, { workspaceRoot: at.workspaceRoot });
  return { files, stamps: stampsDigest(files, lockDigest, historyStampOf(at)) };
}

/**
 * The row's line when the asset's scan still matches its content index row; undefined otherwise (never throws).
 * `store`: the workspace's store paths, when the caller checks many assets.
 */
export async function indexedContentKeyLine(
  workspaceRoot: string,
  projectRoot: string,
  store?: AssetStorePaths,
): Promise<string | undefined> {
  try {
    const at = locate(workspaceRoot, projectRoot, store);
    const manifestText = readFileSync(join(workspaceRoot, at.manifestFile), 'utf8');
    return (await leanPath(at, manifestText, lockDigestOf(at.assetDir))).line;
  } catch {
    return undefined;
  }
}

export async function leanPath(
  at: Located,
  manifestText: string,
  lockDigest: string | undefined,
): Promise<{ line?: string; files?: AssetFile[] }> {
  const row = readKeyIndexRow(at.indexFile, at.assetDir, PLUGIN_VERSION);
  if (!row || row.manifest !== sha256Digest(manifestText)) return {};
  let scan: { files: AssetFile[]; stamps: string };
  try {
    scan = await scanStamps(at, row.selection, lockDigest);
  } catch {
    return {}; // a glob that now matches nothing may still match the lock: the full path decides
  }
  return { files: scan.files, ...(scan.stamps === row.stamps ? { line: row.line } : {}) };
}
