/**
 * The content key's analysis, handed to the build that follows it. Under Nx the key (a runtime input) analyzes
 * the asset right before the task runs: it scans, loads the stat cache, plans the layers and hashes. The build
 * used to do all of that again (1.4 s at 20,000 files, ~4 s at 100,000). Now the key's full path leaves its
 * analysis beside the content index row, as columns (`asset/analysis-columns.ts`), and the build takes it when
 * its own scan proves nothing changed since: the same stamps digest as the row's (every file's stat, the lock's
 * text, the stat cache's history: `stampsDigest`), the same asset.json text, plugin version and build parameters
 * (`mtime`, `largeFileThreshold`). Anything else, and anything unreadable, is no handover: the build analyzes
 * as it always did. It never makes a build wrong, only faster.
 *
 * `<store>/stat-cache/<16 hex>.handover`, V8's serialization of one record, written atomically. A build that
 * writes the lock changes the stamps, so the record then serves nobody until the next full key path rewrites it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import { analysisColumns, analysisFromColumns, type AnalysisColumns } from '../asset/analysis-columns';
import type { AssetAnalysis } from '../asset/analyze-asset';
import type { AssetBuildOptions } from '../asset/build-options';
import { DEFAULT_LARGE_FILE_THRESHOLD } from '../asset/layer-plan';
import { ASSET_LOCK_FILE, parseAssetLock } from '../lock/lock';
import type { AssetManifest } from '../manifest/manifest';
import { sha256Digest } from '../oci/digest';
import { writeFileAtomic } from '../util/atomic-write';
import { PLUGIN_VERSION } from '../util/plugin-version';
import { locate, readLockBytes, scanStamps, type Located } from './indexed-key-line';

export const ANALYSIS_HANDOVER_VERSION = 1;

/** The build parameters an analysis depends on, as they take effect: a build with others analyzes anew. */
export interface HandoverParameters {
  mtime: number;
  largeFileThreshold: number;
}

interface HandoverRecord {
  version: number;
  plugin: string;
  /** The asset folder (absolute). */
  root: string;
  /** sha256 of asset.json's text. */
  manifest: string;
  /** The stamps digest the analysis was made at (the content index row's). */
  stamps: string;
  /** The key line of the analysis. */
  line: string;
  parameters: HandoverParameters;
  columns: AnalysisColumns;
}

export interface HandedOver {
  analysis: AssetAnalysis;
  /** The key line the analysis gave (what the runtime input printed). */
  line: string;
}

/** The parameters of a build with these options. */
export function handoverParameters(options: Pick<AssetBuildOptions, 'mtime' | 'largeFileThreshold'>): HandoverParameters {
  // The executor's schema sets the default threshold where the key script gets none: the same plan.
  return { mtime: options.mtime ?? 0, largeFileThreshold: options.largeFileThreshold ?? DEFAULT_LARGE_FILE_THRESHOLD };
}

/**
 * Leaves `analysis` for the next build: made from `manifestText` at `stamps` (the row just saved), giving `line`.
 * Nothing for an analysis with remote sources. Never throws: without it the build analyzes as before.
 */
export async function saveAnalysisHandover(
  at: Located,
  analysis: AssetAnalysis,
  made: { manifestText: string; stamps: string; line: string; parameters: HandoverParameters },
): Promise<void> {
  try {
    const columns = analysis.manifest.sources.length === 0 ? analysisColumns(analysis) : undefined;
    if (!columns) return;
    const record: HandoverRecord = {
      version: ANALYSIS_HANDOVER_VERSION,
      plugin: PLUGIN_VERSION,
      root: at.assetDir,
      manifest: sha256Digest(made.manifestText),
      stamps: made.stamps,
      line: made.line,
      parameters: made.parameters,
      columns,
    };
    await writeFileAtomic(at.handoverFile, serialize(record));
  } catch {
    // see above
  }
}

/**
 * The key's analysis of the asset of `manifest` (parsed from `manifestText`), when the folder, the lock and the
 * stat cache's history are as the key saw them and the build's parameters are its; else undefined. Never throws.
 */
export async function takeAnalysisHandover(
  options: Pick<AssetBuildOptions, 'workspaceRoot' | 'store' | 'mtime' | 'largeFileThreshold'>,
  manifest: AssetManifest,
  manifestText: string,
): Promise<HandedOver | undefined> {
  try {
    if (manifest.sources.length > 0) return undefined;
    const at = locate(options.workspaceRoot, manifest.projectRoot, options.store);
    const record = readRecord(at);
    const parameters = handoverParameters(options);
    if (
      !record ||
      record.root !== at.assetDir ||
      record.manifest !== sha256Digest(manifestText) ||
      record.parameters.mtime !== parameters.mtime ||
      record.parameters.largeFileThreshold !== parameters.largeFileThreshold
    )
      return undefined;
    // The lock read once: its digest for the stamps, its text for the analysis.
    const lock = readLockBytes(at.assetDir);
    const { files: scanned, stamps } = await scanStamps(at, manifest, lock === undefined ? undefined : sha256Digest(lock));
    if (stamps !== record.stamps) return undefined;
    const committedLock =
      lock === undefined ? undefined : parseAssetLock(lock.toString('utf8'), join(manifest.projectRoot, ASSET_LOCK_FILE));
    const analysis = analysisFromColumns(record.columns, {
      manifest,
      scanned,
      ...(committedLock ? { committedLock } : {}),
      assetDir: at.assetDir,
      mtime: parameters.mtime,
    });
    return { analysis, line: record.line };
  } catch {
    return undefined; // a glob that matches nothing now, a lock that no longer parses: the usual analysis reports it
  }
}

function readRecord(at: Located): HandoverRecord | undefined {
  let bytes: Buffer;
  try {
    bytes = readFileSync(at.handoverFile);
  } catch {
    return undefined;
  }
  const record = deserialize(bytes) as Partial<HandoverRecord> | null;
  if (record === null || typeof record !== 'object') return undefined;
  if (record.version !== ANALYSIS_HANDOVER_VERSION || record.plugin !== PLUGIN_VERSION) return undefined;
  if (typeof record.stamps !== 'string' || typeof record.line !== 'string' || !record.columns || !record.parameters) return undefined;
  return record as HandoverRecord;
}
