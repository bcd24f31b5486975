/**
 * The stat cache's file formats, as pure functions (the files and the class are
 * in stat-cache.ts): the base snapshot, the journal of rows appended after it,
 * the difference a save appends and its replay.
 *
 * Base (`<16 hex>.json`), one JSON document, one row a line:
 *   {"version":3,"root":"<absolute asset folder>",
 *    "entries":[[path, dev, ino, size, mtimeNs, ctimeNs, sha256, {frameKey: digest}?], ...],
 *    "seen":[[path, sha256], ...]}
 * Journal (`<16 hex>.journal`), one JSON array a line, replayed over the base in order:
 *   ["e", path, dev, ino, size, mtimeNs, ctimeNs, sha256, {frameKey: digest}?]   set an entry
 *   ["d", path]                                                                 delete an entry
 *   ["s", path, sha256]                                                         set a seen path
 *   ["u", path]                                                                 forget a seen path
 * Paths relative to the root (posix `/` inside it; absolute for files outside
 * it, e.g. remote sources in the store). An invalid base is empty; an invalid
 * journal line (a torn last line after a crash mid-append) is skipped.
 */
import { createHash } from 'node:crypto';
import type { BigIntStats } from 'node:fs';
import { isAbsolute, sep } from 'node:path';

/** A file's identity and version as far as stat can tell. bigint values as decimal strings. */
export interface FileStamp {
  dev: string;
  ino: string;
  size: string;
  mtimeNs: string;
  ctimeNs: string;
}

export interface StatCacheEntry {
  stamp: FileStamp;
  /** Hex sha256 of the content. */
  sha256: string;
  size: number;
  /** Single-file layer digests (hex sha256 of prefix ‖ content ‖ suffix), keyed by `frameKey(prefix, suffix)`. */
  layers?: Record<string, string>;
}

/** The cache's content: entries and seen paths (absolute paths). */
export interface ParsedCache {
  entries: Map<string, StatCacheEntry>;
  seen: Map<string, string>;
}

/** What a diff reads of the cache as it was loaded: no copy of its maps needed. */
export interface CacheView {
  entries: Pick<ReadonlyMap<string, StatCacheEntry>, 'get' | 'keys'>;
  seen: Pick<ReadonlyMap<string, string>, 'get' | 'keys'>;
}

/** One journal row (absolute paths). */
export type JournalRow =
  | { op: 'set'; path: string; entry: StatCacheEntry }
  | { op: 'delete'; path: string }
  | { op: 'seen'; path: string; sha256: string }
  | { op: 'unseen'; path: string };

/** 3: base + journal (2: one JSON file rewritten whole; its caches are ignored and rebuilt by hashing once). */
export const CACHE_VERSION = 3;

export function stampOf(stats: BigIntStats): FileStamp {
  return {
    dev: stats.dev.toString(),
    ino: stats.ino.toString(),
    size: stats.size.toString(),
    mtimeNs: stats.mtimeNs.toString(),
    ctimeNs: stats.ctimeNs.toString(),
  };
}

export function sameStamp(a: FileStamp, b: FileStamp): boolean {
  return a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs;
}

/** Identifies a frame (the tar bytes around a file) in the cache: sha256 of len(prefix) ‖ prefix ‖ suffix. */
export function frameKey(prefix: Uint8Array, suffix: Uint8Array): string {
  const length = Buffer.alloc(8);
  length.writeBigUInt64BE(BigInt(prefix.length));
  return createHash('sha256').update(length).update(prefix).update(suffix).digest('hex');
}

const DECIMAL = /^\d+$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;

export const emptyCache = (): ParsedCache => ({ entries: new Map(), seen: new Map() });

/** A stored path as an absolute one: relative paths are below `root`. */
function absoluteOf(root: string, path: string): string {
  return isAbsolute(path) ? path : root + sep + (sep === '/' ? path : path.split('/').join(sep));
}

/** An absolute path as stored: relative (posix) below `root`, else absolute. */
function storedOf(root: string, absPath: string): string {
  if (!absPath.startsWith(root + sep)) return absPath;
  const relative = absPath.slice(root.length + 1);
  return sep === '/' ? relative : relative.split(sep).join('/');
}

const isPath = (value: unknown): value is string => typeof value === 'string' && value !== '';
const isSha256 = (value: unknown): value is string => typeof value === 'string' && SHA256_HEX.test(value);

/** An entry row (`[path, dev, ino, size, mtimeNs, ctimeNs, sha256, layers?]`), or undefined when invalid. */
function entryOf(row: unknown[]): [string, StatCacheEntry] | undefined {
  if (row.length !== 7 && row.length !== 8) return undefined;
  const [path, dev, ino, size, mtimeNs, ctimeNs, sha256, layers] = row;
  if (!isPath(path) || !isSha256(sha256)) return undefined;
  for (const part of [dev, ino, size, mtimeNs, ctimeNs]) if (typeof part !== 'string' || !DECIMAL.test(part)) return undefined;
  const entry: StatCacheEntry = {
    stamp: { dev: dev as string, ino: ino as string, size: size as string, mtimeNs: mtimeNs as string, ctimeNs: ctimeNs as string },
    sha256,
    size: Number(size),
  };
  if (layers !== undefined) {
    if (layers === null || typeof layers !== 'object' || Array.isArray(layers)) return undefined;
    if (!Object.values(layers).every(isSha256)) return undefined;
    entry.layers = layers as Record<string, string>;
  }
  return [path, entry];
}

/** The fields of an entry's row after its path. */
function entryFields({ stamp, sha256, layers }: StatCacheEntry): unknown[] {
  const fields: unknown[] = [stamp.dev, stamp.ino, stamp.size, stamp.mtimeNs, stamp.ctimeNs, sha256];
  if (layers !== undefined && Object.keys(layers).length > 0) fields.push(layers);
  return fields;
}

/** Entries and seen paths of a base file's text for the asset at `root`; a file of another version or asset, or invalid text, is empty, never thrown. */
export function parseStatCache(text: string | undefined, root: string): ParsedCache {
  const cache = emptyCache();
  if (text === undefined) return cache;
  let data: { version?: unknown; root?: unknown; entries?: unknown; seen?: unknown } | null;
  try {
    data = JSON.parse(text) as typeof data;
  } catch {
    return cache; // a corrupt or truncated cache is an empty cache
  }
  if (data === null || typeof data !== 'object' || data.version !== CACHE_VERSION || data.root !== root) return cache;
  if (Array.isArray(data.entries)) {
    for (const row of data.entries as unknown[]) {
      const parsed = Array.isArray(row) ? entryOf(row) : undefined;
      if (parsed) cache.entries.set(absoluteOf(root, parsed[0]), parsed[1]);
    }
  }
  if (Array.isArray(data.seen)) {
    for (const row of data.seen as unknown[]) {
      if (!Array.isArray(row) || row.length !== 2) continue;
      const [path, sha] = row as unknown[];
      if (isPath(path) && isSha256(sha)) cache.seen.set(absoluteOf(root, path), sha);
    }
  }
  return cache;
}

const byPath = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The base file's text for these entries and seen paths (each in path order, so the same cache is the same bytes). */
export function serializeStatCache(root: string, entries: ReadonlyMap<string, StatCacheEntry>, seen: ReadonlyMap<string, string>): string {
  const rows = [...entries.keys()].sort(byPath).map((path) => JSON.stringify([storedOf(root, path), ...entryFields(entries.get(path)!)]));
  const seenRows = [...seen.keys()].sort(byPath).map((path) => JSON.stringify([storedOf(root, path), seen.get(path)]));
  // One row a line: still one JSON document, and a diff of two caches reads line by line.
  return `{"version":${CACHE_VERSION},"root":${JSON.stringify(root)},\n"entries":[\n${rows.join(',\n')}],\n"seen":[\n${seenRows.join(',\n')}]}\n`;
}

/** One journal line (no newline) of a row. */
function journalLineOf(root: string, row: JournalRow): string {
  const path = storedOf(root, row.path);
  switch (row.op) {
    case 'set':
      return JSON.stringify(['e', path, ...entryFields(row.entry)]);
    case 'delete':
      return JSON.stringify(['d', path]);
    case 'seen':
      return JSON.stringify(['s', path, row.sha256]);
    case 'unseen':
      return JSON.stringify(['u', path]);
  }
}

/**
 * The text one save appends to the journal. It starts with a newline: should the last append have been torn
 * (a crash mid-write), its partial line ends there instead of spoiling this one's first row.
 */
export function journalText(root: string, rows: readonly JournalRow[]): string {
  return `\n${rows.map((row) => journalLineOf(root, row)).join('\n')}\n`;
}

/** A journal line's row, or undefined when the line is empty, torn or invalid. */
function journalRowOf(root: string, line: string): JournalRow | undefined {
  let row: unknown;
  try {
    row = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (!Array.isArray(row) || row.length < 2 || !isPath(row[1])) return undefined;
  const path = absoluteOf(root, row[1]);
  switch (row[0]) {
    case 'e': {
      const parsed = entryOf(row.slice(1));
      return parsed && { op: 'set', path, entry: parsed[1] };
    }
    case 'd':
      return row.length === 2 ? { op: 'delete', path } : undefined;
    case 's':
      return row.length === 3 && isSha256(row[2]) ? { op: 'seen', path, sha256: row[2] } : undefined;
    case 'u':
      return row.length === 2 ? { op: 'unseen', path } : undefined;
    default:
      return undefined;
  }
}

/** The rows of a journal's text, in order; empty, torn and invalid lines are skipped, never thrown. */
export function parseJournal(text: string | undefined, root: string): JournalRow[] {
  if (text === undefined) return [];
  const rows: JournalRow[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const row = journalRowOf(root, line);
    if (row) rows.push(row);
  }
  return rows;
}

/** Replays `rows` over `cache` in order (mutates it). */
export function applyJournal(cache: ParsedCache, rows: readonly JournalRow[]): ParsedCache {
  for (const row of rows) {
    if (row.op === 'set') cache.entries.set(row.path, row.entry);
    else if (row.op === 'delete') cache.entries.delete(row.path);
    else if (row.op === 'seen') cache.seen.set(row.path, row.sha256);
    else cache.seen.delete(row.path);
  }
  return cache;
}

function sameLayers(a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean {
  const aKeys = Object.keys(a ?? {});
  return aKeys.length === Object.keys(b ?? {}).length && aKeys.every((key) => a![key] === b?.[key]);
}

export function sameEntry(a: StatCacheEntry, b: StatCacheEntry): boolean {
  return a === b || (a.sha256 === b.sha256 && a.size === b.size && sameStamp(a.stamp, b.stamp) && sameLayers(a.layers, b.layers));
}

/** What a save keeps: the paths, and of each its entry and seen content (either may be none). */
export interface KeptCache {
  paths: Iterable<string> & { has(path: string): boolean };
  entry(path: string): StatCacheEntry | undefined;
  seen(path: string): string | undefined;
}

/** A whole cache as what a save keeps. */
export function keptOf(cache: ParsedCache): KeptCache {
  return {
    paths: new Set([...cache.entries.keys(), ...cache.seen.keys()]),
    entry: (path) => cache.entries.get(path),
    seen: (path) => cache.seen.get(path),
  };
}

/**
 * The rows that turn `loaded` into `kept` when replayed over it: what a save appends. Only the `candidates` are
 * compared (default: every kept and loaded path); a caller that knows which paths can differ passes those, so a
 * save costs what changed.
 */
export function diffStatCache(loaded: CacheView, kept: KeptCache, candidates?: Iterable<string>): JournalRow[] {
  const rows: JournalRow[] = [];
  for (const path of candidates ?? new Set([...kept.paths, ...loaded.entries.keys(), ...loaded.seen.keys()])) {
    const isKept = kept.paths.has(path);
    const entry = isKept ? kept.entry(path) : undefined;
    const entryBefore = loaded.entries.get(path);
    if (entry !== undefined) {
      if (entryBefore === undefined || !sameEntry(entryBefore, entry)) rows.push({ op: 'set', path, entry });
    } else if (entryBefore !== undefined) rows.push({ op: 'delete', path });
    const sha256 = isKept ? kept.seen(path) : undefined;
    const seenBefore = loaded.seen.get(path);
    if (sha256 !== undefined) {
      if (seenBefore !== sha256) rows.push({ op: 'seen', path, sha256 });
    } else if (seenBefore !== undefined) rows.push({ op: 'unseen', path });
  }
  return rows;
}

/** Journal rows past which a save rewrites the base instead of appending: an eighth of the base, at least 1,000. */
export function journalLimit(baseRows: number): number {
  return Math.max(1000, Math.floor(baseRows / 8));
}

/**
 * `map` as it was before the changes recorded in `before` (path → value before its first change; undefined: it
 * was not there): the cache as loaded, read without copying it.
 */
export function viewBefore<V>(
  map: ReadonlyMap<string, V>,
  before: ReadonlyMap<string, V | undefined>,
): Pick<ReadonlyMap<string, V>, 'get' | 'keys'> {
  return {
    get: (path) => (before.has(path) ? before.get(path) : map.get(path)),
    *keys() {
      for (const path of map.keys()) if (!before.has(path)) yield path;
      for (const [path, value] of before) if (value !== undefined) yield path;
    },
  } as Pick<ReadonlyMap<string, V>, 'get' | 'keys'>;
}
