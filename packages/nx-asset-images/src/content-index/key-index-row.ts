/**
 * One asset's row of the content index: the stat of everything its key was
 * made from, as one digest, and the key line. A run whose scan gives the same
 * digest has the same content (the racy rule below makes that true), so it
 * takes the key without loading the stat cache, planning layers or reading
 * the lock.
 *
 * Stored beside the asset's stat cache, `<store>/stat-cache/<16 hex>.key.json`
 * (same name as the stat cache's files, `.key.json`): a few hundred bytes, so
 * loading and saving it costs the same at 10 files and at 100,000.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../util/atomic-write';
import { statCacheStemOf, type FileStamp, type HistoryStamp } from '../hashing/stat-cache';

export const KEY_INDEX_VERSION = 1;

export interface KeyIndexRow {
  version: number;
  /** The package version that made the row: another one makes its rows unused. */
  plugin: string;
  /** The asset folder (absolute). */
  root: string;
  /** sha256 of asset.json's text. */
  manifest: string;
  /** asset.json's `files` and `exclude` as validated: the scan the next run repeats without parsing the manifest again. */
  selection: { files: string[]; exclude: string[] };
  /** `stampsDigest` of the scan the key was made from. */
  stamps: string;
  /** The key line (what the runtime input prints). */
  line: string;
}

/** The row file of the asset at `assetDir` (absolute) in the store's stat-cache folder `cacheDir`. */
export function keyIndexFileOf(cacheDir: string, assetDir: string): string {
  return `${statCacheStemOf(cacheDir, assetDir)}.key.json`;
}

/** What the digest covers of each scanned file. */
export interface ScannedFile {
  relPath: string;
  mode: number;
  stamp: FileStamp;
}

/**
 * sha256 of every scanned file's path, mode and stamp (dev, inode, size, mtime and ctime in ns), in path order;
 * of the lock's content digest (`none` when there is none: the lock's content, not its stamp, so the lock a build
 * writes after hashing keeps the row valid); and of the stamps of the asset's stat cache files (`historyStamp`).
 * A new, deleted or renamed file, a mode change, any write (new mtime or ctime), a pointer swapped for its file
 * (new size and inode) or another lock gives another digest.
 *
 * The stat cache's stamp stands for what this workspace has seen: a file the lock pins and the folder lacks is
 * absent when this workspace never had it and removed when it had it, so the same scan can call for another key
 * once the file has been here (pulled, hashed, deleted again). Every save of the stat cache either appends to
 * its journal (a longer file) or compacts it (a new base inode, the journal gone), so any of them gives another
 * digest; both stamps count.
 */
export function stampsDigest(
  files: readonly ScannedFile[],
  lockDigest: string | undefined,
  historyStamp: HistoryStamp | undefined,
): string {
  const hash = createHash('sha256');
  const stampText = (s: FileStamp) => `${s.dev}\0${s.ino}\0${s.size}\0${s.mtimeNs}\0${s.ctimeNs}`;
  hash.update(`lock\0${lockDigest ?? 'none'}\n`);
  const historyText = (s: FileStamp | undefined) => (s ? stampText(s) : 'none');
  hash.update(`history\0${historyText(historyStamp?.base)}\0journal\0${historyText(historyStamp?.journal)}\n`);
  for (const file of files) hash.update(`${file.relPath}\0${file.mode}\0${stampText(file.stamp)}\n`);
  return hash.digest('hex');
}

/**
 * Whether a stamp is too close to the moment it was taken to prove anything: a write of the same size within the
 * file system's timestamp granularity would leave it unchanged (git's "racy" rule). Such a scan's row is not saved.
 */
export function isRacy(stamp: FileStamp, statTimeNs: bigint, windowNs: bigint): boolean {
  const mtime = BigInt(stamp.mtimeNs);
  const ctime = BigInt(stamp.ctimeNs);
  return statTimeNs - (mtime > ctime ? mtime : ctime) < windowNs;
}

const isStringArray = (value: unknown): value is string[] => Array.isArray(value) && value.every((v) => typeof v === 'string');

/** The row in `text` for the asset at `root` made by `plugin`; anything else (missing, corrupt, another version) is none. */
export function parseKeyIndexRow(text: string | undefined, root: string, plugin: string): KeyIndexRow | undefined {
  if (text === undefined) return undefined;
  let row: Partial<KeyIndexRow> | null;
  try {
    row = JSON.parse(text) as Partial<KeyIndexRow> | null;
  } catch {
    return undefined;
  }
  if (row === null || typeof row !== 'object') return undefined;
  if (row.version !== KEY_INDEX_VERSION || row.plugin !== plugin || row.root !== root) return undefined;
  if (typeof row.manifest !== 'string' || typeof row.stamps !== 'string' || typeof row.line !== 'string' || row.line === '')
    return undefined;
  const selection = row.selection;
  if (!selection || !isStringArray(selection.files) || !isStringArray(selection.exclude)) return undefined;
  return row as KeyIndexRow;
}

export function readKeyIndexRow(path: string, root: string, plugin: string): KeyIndexRow | undefined {
  let text: string | undefined;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    text = undefined;
  }
  return parseKeyIndexRow(text, root, plugin);
}

export function writeKeyIndexRow(path: string, row: KeyIndexRow): Promise<void> {
  return writeFileAtomic(path, `${JSON.stringify(row)}\n`);
}
