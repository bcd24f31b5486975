/**
 * The line the `asset-image` target's runtime input prints: it changes exactly
 * when the asset's local content changes (`asset/content-key.ts`), and never
 * repeats when the key cannot be made.
 *
 * Two paths:
 * - `indexedContentKeyLine`, the lean one: asset.json's text, one stat of each
 *   selected file (the scan) and the lock's text, against the asset's content
 *   index row (`key-index-row.ts`). Same digest: the row's line; the stat
 *   cache is not loaded, no layer is planned, no content is read. Else: none.
 *   Never throws. What the `preTasksExecution` hook runs for every asset.
 * - `contentKeyLine`: the lean path first, then the full one: asset.json
 *   validated, the files hashed through the stat cache (a changed file read
 *   once, with its layer digest for the build that follows: a large file's
 *   framed digest, a small file's group digest, `groupDigestHashPass`), the
 *   lock's absent files; its row saved for the next run.
 *
 * A build saves the row of what it built too (`saveContentIndexRow`), after
 * writing the lock, so the first no-op after a build is answered by the index.
 * No row is saved when a stamp is racy (a file written within 2 s of its stat:
 * a same-size rewrite within the file system's timestamp granularity would
 * leave the stamp unchanged).
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { prepareAsset } from '../assembly/prepare-asset';
import { groupDigestHashPass } from '../assembly/group-digest-pass';
import { layerDigestsOf } from '../assembly/build-asset-image';
import type { AssetAnalysis } from '../asset/analyze-asset';
import { assetBuildOptions } from '../asset/build-options';
import { contentKey } from '../asset/content-key';
import { sha256Digest } from '../oci/digest';
import { isRacy, KEY_INDEX_VERSION, stampsDigest, writeKeyIndexRow } from './key-index-row';
import { historyStampOf, leanPath, locate, lockDigestOf } from './indexed-key-line';
import { handoverParameters, saveAnalysisHandover } from './analysis-handover';
// The builder's version is part of the key: a new release may lay out images differently.
import { PLUGIN_VERSION } from '../util/plugin-version';
import type { HistoryStamp } from '../hashing/stat-cache';

export { indexedContentKeyLine } from './indexed-key-line';

/** The stat cache's racy window. */
const RACY_WINDOW_NS = 2_000_000_000n;

/** The key line of an analysis: what the runtime input prints for it. */
export function contentKeyLineOf(analysis: AssetAnalysis): string {
  return `${PLUGIN_VERSION} content ${contentKey(analysis)}`;
}

/**
 * Saves the asset's row: `analysis` was made from `manifestText` and the lock whose text is `lockDigest`
 * (undefined: none); `line` is its key line when the caller has it (else computed). Nothing when a scanned stamp
 * is racy, or the analysis has no scan. Returns the row's stamps digest when saved. Never throws: a store that
 * cannot be written costs the next run the full path, never a wrong key.
 */
export async function saveContentIndexRow(
  workspaceRoot: string,
  analysis: AssetAnalysis,
  manifestText: string,
  lockDigest: string | undefined,
  historyStamp: HistoryStamp | undefined,
  racyWindowNs: bigint = RACY_WINDOW_NS,
  line: string = contentKeyLineOf(analysis),
): Promise<string | undefined> {
  const scanned = analysis.scanned;
  if (!scanned || scanned.some((file) => isRacy(file.stamp, file.statTimeNs, racyWindowNs))) return undefined;
  try {
    const at = locate(workspaceRoot, analysis.manifest.projectRoot);
    const stamps = stampsDigest(scanned, lockDigest, historyStamp);
    await writeKeyIndexRow(at.indexFile, {
      version: KEY_INDEX_VERSION,
      plugin: PLUGIN_VERSION,
      root: at.assetDir,
      manifest: sha256Digest(manifestText),
      selection: { files: [...analysis.manifest.files], exclude: [...analysis.manifest.exclude] },
      stamps,
      line,
    });
    return stamps;
  } catch {
    return undefined; // see above
  }
}

/** The lock digest a build's row is saved with: the lock as the build left it. */
export function currentLockDigest(workspaceRoot: string, projectRoot: string): string | undefined {
  return lockDigestOf(resolve(workspaceRoot, projectRoot));
}

/** The stamps of the asset's stat cache files: taken right after the analysis saved it, for the row saved after. */
export function currentHistoryStamp(workspaceRoot: string, projectRoot: string): HistoryStamp | undefined {
  return historyStampOf(locate(workspaceRoot, projectRoot));
}

/** The content key line of the asset at `projectRoot` (workspace-relative): from its index row when unchanged, else computed and saved. */
export async function contentKeyLine(
  workspaceRoot: string,
  projectRoot: string,
  largeFileThreshold?: number,
  /** Tests only: the racy window (default 2 s, the stat cache's). */
  racyWindowNs: bigint = RACY_WINDOW_NS,
): Promise<string> {
  try {
    const at = locate(workspaceRoot, projectRoot);
    // Read before the scan and the hashing: a later change of either gives the next run another digest.
    const manifestText = readFileSync(join(workspaceRoot, at.manifestFile), 'utf8');
    const lockDigest = lockDigestOf(at.assetDir);
    const lean = await leanPath(at, manifestText, lockDigest);
    if (lean.line !== undefined) return lean.line;
    const options = assetBuildOptions(workspaceRoot, { largeFileThreshold });
    const analysis = await prepareAsset(options, at.manifestFile, {
      sources: 'skip',
      text: manifestText,
      ...(lean.files ? { files: lean.files } : {}),
      // Groups it must read anyway give their layer digests from the same read: the build then reads none again.
      hashPass: groupDigestHashPass({ mtime: options.mtime ?? 0, layerDigests: layerDigestsOf(options) }),
    });
    const line = contentKeyLineOf(analysis);
    const stamps = await saveContentIndexRow(workspaceRoot, analysis, manifestText, lockDigest, historyStampOf(at), racyWindowNs, line);
    // The build that follows (the task this key is for) takes the analysis instead of making it again.
    if (stamps !== undefined)
      await saveAnalysisHandover(at, analysis, { manifestText, stamps, line, parameters: handoverParameters(options) });
    return line;
  } catch (error) {
    // Not this script's job to report: the task runs and its executor reports the error. A failing key is never a
    // cache hit: the line is new on every run (a fixed message would let a build made after the failure be served
    // again once the content changed), with the message's digest to tell failures apart when reading it.
    return `error ${randomUUID()} ${sha256Digest(error instanceof Error ? error.message : String(error))}`;
  }
}
