/**
 * The persistent stat cache of one asset: path → (dev, ino, size, mtime ns,
 * ctime ns) → content sha256 and single-file layer digests. A file whose
 * stat still matches is never opened again.
 *
 * One file per asset, `<store>/stat-cache/<first 16 hex of sha256 of the
 * absolute asset folder>.json`, so a no-op loads only its own asset and a
 * workspace of many assets never rewrites one big file. The absolute folder
 * (not the workspace-relative one) names the file: a store shared by several
 * checkouts (`NX_ASSET_IMAGES_STORE`) keeps one cache per checkout instead of
 * thrashing one. The format is JSON arrays, fast to parse at 100,000 files:
 *   {"version":2,"root":"<absolute asset folder>",
 *    "entries":[[path, dev, ino, size, mtimeNs, ctimeNs, sha256, {frameKey: digest}?], ...],
 *    "seen":[[path, sha256], ...]}
 * with paths relative to `root` (posix `/` inside it; absolute for files
 * outside it, e.g. remote sources in the store). A missing, corrupt or
 * truncated file is an empty cache.
 *
 * Written (atomically: temp + rename) only when something changed, and then
 * it holds exactly the paths this run used (looked up, stored, marked or asked
 * about as seen): the files of a gone file drop out, which is the garbage
 * collection of entries. Saving merges with what another process saved
 * meanwhile for those paths (ours win where we stored). `pruneStatCaches`
 * removes the files of assets that no longer exist.
 *
 * Migration: the workspace-wide `stat-cache.json` of earlier versions is
 * ignored (the caches rebuild by hashing once) and deleted when a per-asset
 * file is written.
 */
import { createHash } from 'node:crypto';
import type { BigIntStats } from 'node:fs';
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve, sep } from 'node:path';
import { writeFileAtomic } from '../util/atomic-write';

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

/** The workspace-wide file of earlier versions, deleted when a per-asset file is written. */
export const LEGACY_STAT_CACHE_FILE = 'stat-cache.json';
/** The store's folder of per-asset cache files. */
export const STAT_CACHE_DIR = 'stat-cache';
const CACHE_VERSION = 2;
const FILE_EXTENSION = '.json';
/** An asset's stat cache file, or its content index row (`<16 hex>.key.json`, content-index/key-index-row.ts). */
const CACHE_FILE_NAME = /^[0-9a-f]{16}(\.key)?\.json$/;

/** The cache file of the asset at `assetDir` (absolute) in the store's stat-cache folder `cacheDir`. */
export function statCacheFileOf(cacheDir: string, assetDir: string): string {
  return join(cacheDir, `${createHash('sha256').update(resolve(assetDir)).digest('hex').slice(0, 16)}${FILE_EXTENSION}`);
}

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

interface ParsedCache {
  entries: Map<string, StatCacheEntry>;
  seen: Map<string, string>;
}

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

function entryOf(row: unknown): [string, StatCacheEntry] | undefined {
  if (!Array.isArray(row) || (row.length !== 7 && row.length !== 8)) return undefined;
  const [path, dev, ino, size, mtimeNs, ctimeNs, sha256, layers] = row as unknown[];
  if (typeof path !== 'string' || path === '' || typeof sha256 !== 'string' || !SHA256_HEX.test(sha256)) return undefined;
  for (const part of [dev, ino, size, mtimeNs, ctimeNs]) if (typeof part !== 'string' || !DECIMAL.test(part)) return undefined;
  const entry: StatCacheEntry = {
    stamp: { dev: dev as string, ino: ino as string, size: size as string, mtimeNs: mtimeNs as string, ctimeNs: ctimeNs as string },
    sha256,
    size: Number(size),
  };
  if (layers !== undefined) {
    if (layers === null || typeof layers !== 'object' || Array.isArray(layers)) return undefined;
    if (!Object.values(layers).every((v) => typeof v === 'string' && SHA256_HEX.test(v))) return undefined;
    entry.layers = layers as Record<string, string>;
  }
  return [path, entry];
}

/** Entries and seen paths of a cache file's text for the asset at `root`; a file of another version or asset, or invalid text, is empty, never thrown. */
export function parseStatCache(text: string | undefined, root: string): ParsedCache {
  const entries = new Map<string, StatCacheEntry>();
  const seen = new Map<string, string>();
  if (text === undefined) return { entries, seen };
  let data: { version?: unknown; root?: unknown; entries?: unknown; seen?: unknown } | null;
  try {
    data = JSON.parse(text) as typeof data;
  } catch {
    return { entries, seen }; // a corrupt or truncated cache is an empty cache
  }
  if (data === null || typeof data !== 'object' || data.version !== CACHE_VERSION || data.root !== root) return { entries, seen };
  if (Array.isArray(data.entries)) {
    for (const row of data.entries) {
      const parsed = entryOf(row);
      if (parsed) entries.set(absoluteOf(root, parsed[0]), parsed[1]);
    }
  }
  if (Array.isArray(data.seen)) {
    for (const row of data.seen as unknown[]) {
      if (!Array.isArray(row) || row.length !== 2) continue;
      const [path, sha] = row as unknown[];
      if (typeof path === 'string' && path !== '' && typeof sha === 'string' && SHA256_HEX.test(sha)) seen.set(absoluteOf(root, path), sha);
    }
  }
  return { entries, seen };
}

/** The file's text for these entries and seen paths (each in path order, so the same cache is the same bytes). */
export function serializeStatCache(root: string, entries: ReadonlyMap<string, StatCacheEntry>, seen: ReadonlyMap<string, string>): string {
  const byPath = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  const rows = [...entries.keys()].sort(byPath).map((path) => {
    const { stamp, sha256, layers } = entries.get(path)!;
    const row: unknown[] = [storedOf(root, path), stamp.dev, stamp.ino, stamp.size, stamp.mtimeNs, stamp.ctimeNs, sha256];
    if (layers !== undefined && Object.keys(layers).length > 0) row.push(layers);
    return JSON.stringify(row);
  });
  const seenRows = [...seen.keys()].sort(byPath).map((path) => JSON.stringify([storedOf(root, path), seen.get(path)]));
  // One row a line: still one JSON document, and a diff of two caches reads line by line.
  return `{"version":${CACHE_VERSION},"root":${JSON.stringify(root)},\n"entries":[\n${rows.join(',\n')}],\n"seen":[\n${seenRows.join(',\n')}]}\n`;
}

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}

export class StatCache {
  private readonly entries: Map<string, StatCacheEntry>;
  private readonly seen: Map<string, string>;
  /** Paths set or deleted since load: these win over the disk when saving. */
  private readonly touched = new Set<string>();
  /** Paths this run used (the asset's current files, and pinned paths asked about): what a save keeps. */
  private readonly used = new Set<string>();
  /** Paths whose entry this run looked up or stored: the files that are here (others become seen paths when saved). */
  private readonly present = new Set<string>();
  private seenAdded = false;
  private loadedEntries: number;
  private loadedSeen: number;

  private constructor(
    /** Where the cache is saved; `undefined` for an in-memory cache. */
    readonly path: string | undefined,
    /** The asset folder (absolute) whose paths are stored relative to it. */
    readonly root: string,
    loaded: ParsedCache,
  ) {
    this.entries = loaded.entries;
    this.seen = loaded.seen;
    this.loadedEntries = loaded.entries.size;
    this.loadedSeen = loaded.seen.size;
  }

  /** Loads the cache of the asset at `assetDir` from the store's stat-cache folder `cacheDir`; a missing or corrupt file gives an empty cache. */
  static async load(cacheDir: string, assetDir: string): Promise<StatCache> {
    const root = resolve(assetDir);
    const path = statCacheFileOf(cacheDir, root);
    return new StatCache(path, root, parseStatCache(await readIfExists(path), root));
  }

  /** A cache that lives only as long as the object (`save()` does nothing). */
  static inMemory(): StatCache {
    return new StatCache(undefined, sep, { entries: new Map(), seen: new Map() });
  }

  /** Records that this workspace has had the file at `absPath` with this content (whether or not its hash could be cached). */
  markSeen(absPath: string, sha256: string): void {
    this.used.add(absPath);
    // Seen already, here or as an entry (save() keeps those out of `seen`): not a change, or every run would rewrite the file.
    if (this.hasSeen(absPath, sha256)) return;
    this.seen.set(absPath, sha256);
    this.seenAdded = true;
  }

  /**
   * Whether this workspace has had the file at `absPath` with exactly this
   * content: a pinned file that is gone was then removed, not absent. Another
   * content (a teammate's new weight at a path this workspace once had) is not.
   */
  hasSeen(absPath: string, sha256: string): boolean {
    this.used.add(absPath);
    return this.seen.get(absPath) === sha256 || this.entries.get(absPath)?.sha256 === sha256;
  }

  get size(): number {
    return this.entries.size;
  }

  get dirty(): boolean {
    return this.touched.size > 0 || this.seenAdded;
  }

  /** The entry for `absPath` when its stamp still matches `stamp`. */
  lookup(absPath: string, stamp: FileStamp): StatCacheEntry | undefined {
    this.used.add(absPath);
    this.present.add(absPath);
    const entry = this.entries.get(absPath);
    return entry && sameStamp(entry.stamp, stamp) ? entry : undefined;
  }

  /** Records a hash; layer digests of an entry with the same stamp and content are kept and merged. */
  store(absPath: string, stamp: FileStamp, value: { sha256: string; size: number; layers?: Record<string, string> }): void {
    const previous = this.lookup(absPath, stamp);
    const layers = { ...(previous?.sha256 === value.sha256 ? previous.layers : undefined), ...value.layers };
    const entry: StatCacheEntry = { stamp: { ...stamp }, sha256: value.sha256, size: value.size };
    if (Object.keys(layers).length > 0) entry.layers = layers;
    this.entries.set(absPath, entry);
    this.touched.add(absPath);
  }

  delete(absPath: string): void {
    if (this.entries.delete(absPath)) this.touched.add(absPath);
  }

  /**
   * Writes the cache atomically when this run changed it: exactly the paths it
   * used, merged with what another process saved meanwhile for them (ours win
   * where we stored). No-op when clean or in-memory.
   */
  async save(): Promise<void> {
    if (!this.path) return;
    // Nothing stored and nothing new seen: the file changes only when this run dropped paths (gone files).
    if (!this.dirty && this.keepsAllLoaded()) return;
    const onDisk = parseStatCache(await readIfExists(this.path), this.root);
    for (const [path, entry] of onDisk.entries) {
      if (!this.touched.has(path)) this.entries.set(path, entry);
    }
    for (const [path, sha] of onDisk.seen) if (!this.seen.has(path)) this.seen.set(path, sha);
    const merged = this.current(this.entries, this.seen);
    await writeFileAtomic(this.path, serializeStatCache(this.root, merged.entries, merged.seen));
    await rm(join(dirname(dirname(this.path)), LEGACY_STAT_CACHE_FILE), { force: true }).catch(() => undefined);
    this.touched.clear();
    this.seenAdded = false;
    this.loadedEntries = merged.entries.size;
    this.loadedSeen = merged.seen.size;
  }

  /** Whether a save would keep every loaded entry and seen path (`current` without building it: a no-op's check). */
  private keepsAllLoaded(): boolean {
    let entries = 0;
    let seen = 0;
    for (const path of this.used) {
      const entry = this.entries.get(path);
      if (entry !== undefined && this.present.has(path)) {
        entries++;
        const other = this.seen.get(path);
        if (other !== undefined && other !== entry.sha256) seen++;
      } else if (this.seen.has(path) || entry !== undefined) seen++;
    }
    return entries === this.loadedEntries && seen === this.loadedSeen;
  }

  /** What a save keeps: entries of the used paths that are here, and seen content of the other used paths (a gone file's entry becomes its seen content). */
  private current(
    entries: ReadonlyMap<string, StatCacheEntry>,
    seen: ReadonlyMap<string, string>,
  ): { entries: Map<string, StatCacheEntry>; seen: Map<string, string> } {
    const keptEntries = new Map<string, StatCacheEntry>();
    const keptSeen = new Map<string, string>();
    for (const path of this.used) {
      const entry = entries.get(path);
      if (entry !== undefined && (this.present.has(path) || this.touched.has(path))) {
        keptEntries.set(path, entry);
        const other = seen.get(path);
        if (other !== undefined && other !== entry.sha256) keptSeen.set(path, other);
        continue;
      }
      const sha = seen.get(path) ?? entry?.sha256;
      if (sha !== undefined) keptSeen.set(path, sha);
    }
    return { entries: keptEntries, seen: keptSeen };
  }
}

/** The store's folder of per-asset stat cache files (`AssetStorePaths.statCache`). */
export function statCacheDirOf(storeRoot: string): string {
  return join(storeRoot, STAT_CACHE_DIR);
}

/**
 * Removes the stat cache files in the store at `storeRoot` of assets whose
 * folders are not among `liveProjectRoots` (workspace-relative project roots,
 * taken from `options.workspaceRoot`, default the current directory, or
 * absolute folders), and the legacy workspace-wide `stat-cache.json`. With
 * `dryRun`, only reports what it would remove. For the store's garbage
 * collector: a cache removed by mistake costs one hashing of its files.
 */
export async function pruneStatCaches(
  storeRoot: string,
  liveProjectRoots: readonly string[],
  options: { dryRun?: boolean; workspaceRoot?: string } = {},
): Promise<{ removed: string[]; bytes: number }> {
  const cacheDir = statCacheDirOf(storeRoot);
  const base = options.workspaceRoot ?? process.cwd();
  const live = new Set(
    liveProjectRoots.flatMap((root) => {
      const file = statCacheFileOf(cacheDir, resolve(base, root));
      return [file, file.replace(/\.json$/, '.key.json')];
    }),
  );
  const names = await readdir(cacheDir).catch(() => [] as string[]);
  const candidates = [
    ...names
      .filter((name) => CACHE_FILE_NAME.test(name))
      .sort()
      .map((name) => join(cacheDir, name)),
    join(storeRoot, LEGACY_STAT_CACHE_FILE),
  ].filter((path) => !live.has(path));
  const removed: string[] = [];
  let bytes = 0;
  for (const path of candidates) {
    const size = await stat(path).then(
      (stats) => stats.size,
      () => undefined,
    );
    if (size === undefined) continue;
    if (!options.dryRun) await rm(path, { force: true });
    removed.push(path);
    bytes += size;
  }
  return { removed, bytes };
}
