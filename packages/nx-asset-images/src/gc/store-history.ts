/**
 * Each asset's recent builds, newest first: `.asset-images/history/<project>.json`
 * `{ "version": 1, "builds": [{ "digest": "sha256:…", "time": "<ISO>" }] }`.
 * The build appends after it wrote its result (under a lock on the file, written
 * temp-then-rename); gc keeps the current image plus the `storeHistory` newest
 * other digests of the record. The record itself is bounded (MAX_RECORDED):
 * more than any sane history option, so `gc --history N` can raise it later.
 */
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { isDigest } from '../oci/digest';
import type { Digest } from '../oci/image';
import { writeFileAtomic } from '../util/atomic-write';
import { withFileLock } from '../util/file-lock';

export interface HistoryBuild {
  digest: Digest;
  time: string;
}

export const HISTORY_DIR = 'history';
/** Builds a record remembers at most. */
export const MAX_RECORDED = 32;

/** Project names are Nx names; anything that could leave the directory is encoded. */
export function historyFile(storeRoot: string, project: string): string {
  return join(storeRoot, HISTORY_DIR, `${encodeURIComponent(project)}.json`);
}

export function parseHistory(text: string): HistoryBuild[] {
  try {
    const value = JSON.parse(text) as { builds?: unknown };
    if (!Array.isArray(value.builds)) return [];
    return value.builds.filter(
      (b): b is HistoryBuild => typeof b === 'object' && b !== null && isDigest(b.digest) && typeof b.time === 'string',
    );
  } catch {
    return [];
  }
}

/** The new record: `digest` first (moved there when already recorded), bounded. */
export function withBuild(builds: readonly HistoryBuild[], build: HistoryBuild): HistoryBuild[] {
  return [build, ...builds.filter((b) => b.digest !== build.digest)].slice(0, MAX_RECORDED);
}

export async function readHistory(storeRoot: string, project: string): Promise<HistoryBuild[]> {
  try {
    return parseHistory(await readFile(historyFile(storeRoot, project), 'utf8'));
  } catch {
    return [];
  }
}

/** Every project with a record (decoded names). */
export async function historyProjects(storeRoot: string): Promise<string[]> {
  try {
    return (await readdir(join(storeRoot, HISTORY_DIR)))
      .filter((name) => name.endsWith('.json'))
      .map((name) => decodeURIComponent(name.slice(0, -'.json'.length)));
  } catch {
    return [];
  }
}

export async function recordBuild(storeRoot: string, project: string, digest: Digest, now = new Date()): Promise<void> {
  const file = historyFile(storeRoot, project);
  await withFileLock(`${file}.lock`, async () => {
    const builds = withBuild(await readHistory(storeRoot, project), { digest, time: now.toISOString() });
    await writeFileAtomic(file, `${JSON.stringify({ version: 1, builds }, null, 2)}\n`);
  });
}
