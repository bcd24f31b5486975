/**
 * `asset.lock.json`: the committed pin of an asset's local files, like
 * `package-lock.json`. Stable text (sorted keys, 2-space indent, trailing
 * newline) so a changed weight is a one-entry git diff.
 *
 * ```json
 * { "lockfileVersion": 1, "files": { "weights/model.bin": { "size": 12, "sha256": "<64 hex>" } } }
 * ```
 */
import { readFile } from 'node:fs/promises';
import { AssetLockError } from '../errors/asset-errors';

export const ASSET_LOCK_FILE = 'asset.lock.json';
export const ASSET_LOCK_VERSION = 1;

export interface AssetLockEntry {
  size: number;
  /** 64 lowercase hex characters. */
  sha256: string;
}

export interface AssetLock {
  lockfileVersion: 1;
  /** Keyed by the file's path relative to the asset folder (posix). */
  files: Record<string, AssetLockEntry>;
}

export interface AssetLockChange {
  relPath: string;
  expected: AssetLockEntry;
  actual: AssetLockEntry;
}

export interface AssetLockDiff {
  /** In `actual`, not in `expected`. */
  added: string[];
  /** In `expected`, not in `actual`. */
  removed: string[];
  changed: AssetLockChange[];
}

/** Reads a lock; `undefined` when the file does not exist; `AssetLockError` naming the file when it is not a valid lock. */
export async function readAssetLock(path: string): Promise<AssetLock | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new AssetLockError(path, `cannot be read: ${(error as Error).message}`, { cause: error });
  }
  return parseAssetLock(text, path);
}

/** Parses and checks the text of a lock. */
export function parseAssetLock(text: string, file: string): AssetLock {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new AssetLockError(file, `is not valid JSON (${(error as Error).message}); delete it and rebuild to regenerate it`, {
      cause: error,
    });
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new AssetLockError(file, 'expected a JSON object with "lockfileVersion" and "files"');
  }
  const record = data as Record<string, unknown>;
  if (record.lockfileVersion !== ASSET_LOCK_VERSION) {
    throw new AssetLockError(file, `expected "lockfileVersion": ${ASSET_LOCK_VERSION}, got ${JSON.stringify(record.lockfileVersion)}`);
  }
  const files = record.files;
  if (files === null || typeof files !== 'object' || Array.isArray(files)) {
    throw new AssetLockError(file, 'expected "files" to be an object keyed by file path');
  }
  const unknownKeys = Object.keys(record).filter((key) => key !== 'lockfileVersion' && key !== 'files');
  if (unknownKeys.length > 0) {
    throw new AssetLockError(file, `unknown field ${JSON.stringify(unknownKeys[0])}`);
  }
  const result: Record<string, AssetLockEntry> = {};
  for (const [relPath, entry] of Object.entries(files as Record<string, unknown>)) {
    const e = entry as Partial<AssetLockEntry> | null;
    if (
      e === null ||
      typeof e !== 'object' ||
      !Number.isSafeInteger(e.size) ||
      (e.size as number) < 0 ||
      typeof e.sha256 !== 'string' ||
      !/^[0-9a-f]{64}$/.test(e.sha256)
    ) {
      throw new AssetLockError(file, `entry ${JSON.stringify(relPath)}: expected { "size": <bytes>, "sha256": "<64 lowercase hex>" }`);
    }
    result[relPath] = { size: e.size as number, sha256: e.sha256 };
  }
  return { lockfileVersion: 1, files: result };
}

/** The lock's canonical text: keys sorted, 2-space indent, trailing newline. */
export function serializeAssetLock(lock: AssetLock): string {
  const files: Record<string, AssetLockEntry> = {};
  for (const relPath of Object.keys(lock.files).sort(comparePaths)) {
    const entry = lock.files[relPath];
    files[relPath] = { size: entry.size, sha256: entry.sha256 };
  }
  return `${JSON.stringify({ lockfileVersion: ASSET_LOCK_VERSION, files }, null, 2)}\n`;
}

/** A lock from hashed files. Throws on a duplicate path. */
export function lockFromHashes(files: readonly { relPath: string; size: number; sha256: string }[]): AssetLock {
  const entries: Record<string, AssetLockEntry> = {};
  for (const file of files) {
    if (Object.prototype.hasOwnProperty.call(entries, file.relPath)) {
      throw new Error(`lockFromHashes: duplicate path ${JSON.stringify(file.relPath)}`);
    }
    entries[file.relPath] = { size: file.size, sha256: file.sha256 };
  }
  const sorted: Record<string, AssetLockEntry> = {};
  for (const relPath of Object.keys(entries).sort(comparePaths)) sorted[relPath] = entries[relPath];
  return { lockfileVersion: 1, files: sorted };
}

/** What differs between the committed lock (`expected`) and the files on disk (`actual`); each list sorted by path. */
export function diffLock(expected: AssetLock, actual: AssetLock): AssetLockDiff {
  const added: string[] = [];
  const removed: string[] = [];
  const changed: AssetLockChange[] = [];
  for (const relPath of Object.keys(actual.files).sort(comparePaths)) {
    const want = expected.files[relPath];
    const have = actual.files[relPath];
    if (!Object.prototype.hasOwnProperty.call(expected.files, relPath)) added.push(relPath);
    else if (want.sha256 !== have.sha256 || want.size !== have.size) changed.push({ relPath, expected: want, actual: have });
  }
  for (const relPath of Object.keys(expected.files).sort(comparePaths)) {
    if (!Object.prototype.hasOwnProperty.call(actual.files, relPath)) removed.push(relPath);
  }
  return { added, removed, changed };
}

export function isLockDiffEmpty(diff: AssetLockDiff): boolean {
  return diff.added.length === 0 && diff.removed.length === 0 && diff.changed.length === 0;
}

/** Lines for a CI error: `+ added`, `- removed`, `~ changed (sha256 a… → b…)`. */
export function formatLockDiff(diff: AssetLockDiff): string {
  const short = (sha: string) => sha.slice(0, 12);
  return [
    ...diff.added.map((p) => `  + ${p} (not in the lock)`),
    ...diff.removed.map((p) => `  - ${p} (in the lock, no longer a file)`),
    ...diff.changed.map(
      (c) =>
        `  ~ ${c.relPath} (lock: ${c.expected.size} bytes sha256 ${short(c.expected.sha256)}, file: ${c.actual.size} bytes sha256 ${short(c.actual.sha256)})`,
    ),
  ].join('\n');
}

/** Byte-wise (code unit) order, the same on every machine and locale. */
function comparePaths(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
