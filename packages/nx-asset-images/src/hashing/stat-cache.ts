/**
 * The persistent stat cache of one asset: path → (dev, ino, size, mtime ns,
 * ctime ns) → content sha256 and single-file layer digests. A file whose
 * stat still matches is never opened again.
 *
 * Per asset, named by the first 16 hex of sha256 of the absolute asset folder,
 * so a no-op loads only its own asset and a workspace of many assets never
 * rewrites one big file. The absolute folder (not the workspace-relative one)
 * names it: a store shared by several checkouts (`NX_ASSET_IMAGES_STORE`)
 * keeps one cache per checkout instead of thrashing one. Two files (formats in
 * stat-cache-format.ts):
 *   `<store>/stat-cache/<16 hex>.base`     the base: a snapshot, one row a line
 *   `<store>/stat-cache/<16 hex>.journal`  rows appended since: set/delete an entry, set/forget a seen path
 * Load: the base, then the journal replayed over it in order. A missing,
 * corrupt or truncated base is an empty one; a torn or invalid journal line
 * (a crash mid-append) is skipped.
 *
 * A save writes only when this run changed something, and then the cache
 * holds exactly the paths this run used (looked up, stored, marked or asked
 * about as seen): the entries of a gone file drop out (its content stays as a
 * seen path when asked about), which is the garbage collection of entries. It
 * appends the difference between the cache as loaded and as kept, in one
 * write, so its cost is what changed, not the asset's size. What another
 * process appended meanwhile stays, and replays before or after ours (the
 * last save of a path wins; each saves only the paths it changed). When the
 * journal grows past an eighth of the base (at least 1,000 rows), the save
 * compacts instead: under `<16 hex>.compacting` (util/file-lock.ts, not waited
 * for: another compaction running, it appends), it moves the journal aside, writes base +
 * aside + its rows as the new base (atomically: temp + rename), carries over
 * an append that landed in the aside file after it was read, and removes it.
 * Every save changes the stamp of the base or of the journal (a new inode, or
 * a longer file): `historyStampOfCache` stands for what this workspace has
 * seen (content-index/key-index-row.ts). `pruneStatCaches` removes the files
 * of assets that no longer exist.
 *
 * Migration: the caches of earlier versions are ignored (they rebuild by
 * hashing once) and deleted when a cache is saved: version 2's
 * `<16 hex>.json` (one JSON file rewritten whole on every save; `gc` removes
 * it too) and the workspace-wide `stat-cache.json` before it.
 */
import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { tempPathFor, writeFileAtomic } from '../util/atomic-write';
import { acquireFileLock, FileLockTimeoutError, type ReleaseFileLock } from '../util/file-lock';
import {
  applyJournal,
  diffStatCache,
  emptyCache,
  journalLimit,
  journalText,
  parseJournal,
  parseStatCache,
  sameStamp,
  serializeStatCache,
  stampOf,
  viewBefore,
  type FileStamp,
  type JournalRow,
  type KeptCache,
  type ParsedCache,
  type StatCacheEntry,
} from './stat-cache-format';

export { frameKey, parseStatCache, sameStamp, serializeStatCache, stampOf, type FileStamp, type StatCacheEntry } from './stat-cache-format';

/** The workspace-wide file of earlier versions, deleted when a cache is saved. */
export const LEGACY_STAT_CACHE_FILE = 'stat-cache.json';
/** The store's folder of per-asset cache files. */
export const STAT_CACHE_DIR = 'stat-cache';
/**
 * The files of an asset in the stat-cache folder: base, journal, compaction lock, content index row (`.key.json`,
 * content-index/key-index-row.ts), the key's analysis for the build (`.handover`, content-index/analysis-handover.ts),
 * and the cache of version 2 (`.json`, removed).
 */
const CACHE_FILE_NAME = /^[0-9a-f]{16}\.(base|journal|compacting|key\.json|handover|json)$/;

/** The asset at `assetDir`'s files in the store's stat-cache folder `cacheDir`, without their extension: `<16 hex of sha256 of the absolute folder>`. */
export function statCacheStemOf(cacheDir: string, assetDir: string): string {
  return join(cacheDir, createHash('sha256').update(resolve(assetDir)).digest('hex').slice(0, 16));
}

/** The base file of the asset at `assetDir` (absolute) in the store's stat-cache folder `cacheDir`. */
export function statCacheFileOf(cacheDir: string, assetDir: string): string {
  return `${statCacheStemOf(cacheDir, assetDir)}.base`;
}

/** A sibling of the base file `file` with another extension. */
const besideBase = (file: string, extension: string) => file.replace(/\.base$/, extension);

/** The journal beside the base file `file`. */
export function statCacheJournalOf(file: string): string {
  return besideBase(file, '.journal');
}

function compactionLockOf(file: string): string {
  return besideBase(file, '.compacting');
}

/** The stamps of an asset's stat cache files: every save changes one of them. */
export interface HistoryStamp {
  base?: FileStamp;
  journal?: FileStamp;
}

/** The stamps of the base file `file` and its journal; undefined when there is neither. */
export function historyStampOfCache(file: string): HistoryStamp | undefined {
  const stampAt = (path: string) => {
    const stats = statSync(path, { bigint: true, throwIfNoEntry: false });
    return stats ? stampOf(stats) : undefined;
  };
  const base = stampAt(file);
  const journal = stampAt(statCacheJournalOf(file));
  if (!base && !journal) return undefined;
  return { ...(base ? { base } : {}), ...(journal ? { journal } : {}) };
}

async function readIfExists(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch {
    return undefined;
  }
}

/** What the files of a cache hold: base + journal replayed, and how many rows each had. */
export interface StatCacheFiles {
  cache: ParsedCache;
  baseRows: number;
  journalRows: number;
}

/** Reads the base file `file` and its journal for the asset at `root`; never throws on a bad cache. */
export async function readStatCacheFiles(file: string, root: string): Promise<StatCacheFiles> {
  const [base, journal] = await Promise.all([readIfExists(file), readIfExists(statCacheJournalOf(file))]);
  const cache = parseStatCache(base?.toString('utf8'), root);
  const baseRows = cache.entries.size + cache.seen.size;
  const rows = parseJournal(journal?.toString('utf8'), root);
  return { cache: applyJournal(cache, rows), baseRows, journalRows: rows.length };
}

/** Appends `data` to `path` in one write (O_APPEND: on a local file system, not interleaved with another process's append). */
async function appendWhole(path: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  const handle = await open(path, 'a');
  try {
    for (let offset = 0; offset < bytes.length;) offset += (await handle.write(bytes, offset, bytes.length - offset)).bytesWritten;
  } finally {
    await handle.close();
  }
}

/** Takes the compaction lock (the project's file lock, not waited for); undefined when another live process holds it. */
async function takeLock(lock: string): Promise<ReleaseFileLock | undefined> {
  try {
    return await acquireFileLock(lock, { timeoutMs: 0 });
  } catch (error) {
    if (error instanceof FileLockTimeoutError) return undefined;
    throw error;
  }
}

/**
 * Rewrites the base file `file` as base + journal + `rows` and drops the journal; undefined (nothing written)
 * when another process is compacting. The journal is moved aside first: an append that comes after the move
 * starts a new journal, replayed over the new base; one that opened the journal before the move and wrote
 * after it was read is carried over to the new journal.
 */
export async function compactStatCache(file: string, root: string, rows: readonly JournalRow[]): Promise<ParsedCache | undefined> {
  const release = await takeLock(compactionLockOf(file));
  if (!release) return undefined;
  const journal = statCacheJournalOf(file);
  const aside = tempPathFor(journal);
  let moved = false;
  try {
    moved = await rename(journal, aside).then(
      () => true,
      (error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return false;
        throw error;
      },
    );
    const [base, asideBytes] = await Promise.all([readIfExists(file), moved ? readIfExists(aside) : undefined]);
    const read = asideBytes ?? Buffer.alloc(0);
    const cache = applyJournal(applyJournal(parseStatCache(base?.toString('utf8'), root), parseJournal(read.toString('utf8'), root)), rows);
    try {
      await writeFileAtomic(file, serializeStatCache(root, cache.entries, cache.seen));
    } catch (error) {
      // The rows moved aside go back to the journal; should that fail too, the aside file is kept (not removed below).
      if (moved) {
        try {
          await appendWhole(journal, read);
        } catch {
          moved = false;
        }
      }
      throw error;
    }
    if (moved) {
      const late = await readIfExists(aside);
      if (late && late.length > read.length) await appendWhole(journal, Buffer.concat([Buffer.from('\n'), late.subarray(read.length)]));
    }
    return cache;
  } finally {
    if (moved) await rm(aside, { force: true });
    await release();
  }
}

export class StatCache {
  private readonly entries: Map<string, StatCacheEntry>;
  private readonly seen: Map<string, string>;
  /** Each path's entry as loaded, for the paths set or deleted since (undefined: it had none): the diff a save appends. */
  private readonly entriesBefore = new Map<string, StatCacheEntry | undefined>();
  /** Each path's seen content as loaded, for the paths marked seen since. */
  private readonly seenBefore = new Map<string, string | undefined>();
  /** Paths set or deleted since load (or the last save): kept (when set) even if not looked up, and compared when saving. */
  private readonly touched = new Set<string>();
  /** Paths this run used (the asset's current files, and pinned paths asked about): what a save keeps. */
  private readonly used = new Set<string>();
  /** Paths whose entry this run looked up or stored: the files that are here (others become seen paths when saved). */
  private readonly present = new Set<string>();

  private constructor(
    /** Where the cache's base file is; `undefined` for an in-memory cache. */
    readonly path: string | undefined,
    /** The asset folder (absolute) whose paths are stored relative to it. */
    readonly root: string,
    loaded: ParsedCache,
    /** Rows of the base and of the journal when loaded (or last saved): when to compact. */
    private baseRows = 0,
    private journalRows = 0,
  ) {
    this.entries = loaded.entries;
    this.seen = loaded.seen;
  }

  /** Loads the cache of the asset at `assetDir` from the store's stat-cache folder `cacheDir`; missing or corrupt files give an empty cache. */
  static async load(cacheDir: string, assetDir: string): Promise<StatCache> {
    const root = resolve(assetDir);
    const path = statCacheFileOf(cacheDir, root);
    const files = await readStatCacheFiles(path, root);
    return new StatCache(path, root, files.cache, files.baseRows, files.journalRows);
  }

  /** A cache that lives only as long as the object (`save()` does nothing). */
  static inMemory(): StatCache {
    return new StatCache(undefined, sep, emptyCache());
  }

  /** Records that this workspace has had the file at `absPath` with this content (whether or not its hash could be cached). */
  markSeen(absPath: string, sha256: string): void {
    this.used.add(absPath);
    // Seen already, here or as an entry (save() keeps those out of `seen`): not a change, or every run would rewrite the file.
    if (this.hasSeen(absPath, sha256)) return;
    if (!this.seenBefore.has(absPath)) this.seenBefore.set(absPath, this.seen.get(absPath));
    this.seen.set(absPath, sha256);
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
    return this.touched.size > 0 || this.seenBefore.size > 0;
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
    this.changeEntry(absPath);
    this.entries.set(absPath, entry);
  }

  delete(absPath: string): void {
    if (!this.entries.has(absPath)) return;
    this.changeEntry(absPath);
    this.entries.delete(absPath);
  }

  private changeEntry(absPath: string): void {
    if (!this.entriesBefore.has(absPath)) this.entriesBefore.set(absPath, this.entries.get(absPath));
    this.touched.add(absPath);
  }

  /**
   * Saves the cache when this run changed it: exactly the paths it used, as the rows that differ from the cache
   * as loaded, appended in one write (or compacted into a new base, see above). No-op when clean or in-memory.
   */
  async save(): Promise<void> {
    if (!this.path) return;
    const loaded = { entries: viewBefore(this.entries, this.entriesBefore), seen: viewBefore(this.seen, this.seenBefore) };
    const rows = diffStatCache(loaded, this.kept(), this.candidates());
    if (rows.length === 0) return; // a no-op writes nothing
    const compacted =
      this.journalRows + rows.length > journalLimit(this.baseRows) ? await compactStatCache(this.path, this.root, rows) : undefined;
    if (compacted) {
      this.baseRows = compacted.entries.size + compacted.seen.size;
      this.journalRows = 0;
    } else {
      await appendWhole(statCacheJournalOf(this.path), journalText(this.root, rows));
      this.journalRows += rows.length;
    }
    // The caches of earlier versions: the workspace-wide file, and this asset's version 2 file.
    await rm(join(dirname(dirname(this.path)), LEGACY_STAT_CACHE_FILE), { force: true }).catch(() => undefined);
    await rm(besideBase(this.path, '.json'), { force: true }).catch(() => undefined);
    // What it saved is now what it has loaded (the rows turn the loaded cache into the kept one).
    applyJournal({ entries: this.entries, seen: this.seen }, rows);
    this.entriesBefore.clear();
    this.seenBefore.clear();
    this.touched.clear();
  }

  /**
   * The paths whose saved rows can differ from the loaded ones: stored or deleted, newly seen, an entry of a
   * file that is not here (gone, or not used), and the seen paths (few: pinned files that are gone). Every other
   * loaded entry is kept as it is, so a save costs one set lookup per entry and the work of what changed.
   */
  private candidates(): Set<string> {
    const paths = new Set([...this.touched, ...this.seenBefore.keys(), ...this.seen.keys()]);
    for (const path of this.entries.keys()) if (!this.present.has(path)) paths.add(path);
    return paths;
  }

  /** What a save keeps: the used paths; the entries of those that are here, and the seen content of the others (a gone file's entry becomes its seen content). */
  private kept(): KeptCache {
    const keptEntry = (path: string) => {
      const entry = this.entries.get(path);
      return entry !== undefined && (this.present.has(path) || this.touched.has(path)) ? entry : undefined;
    };
    return {
      paths: this.used,
      entry: keptEntry,
      seen: (path) => {
        const entry = keptEntry(path);
        const seen = this.seen.get(path);
        if (entry !== undefined) return seen !== entry.sha256 ? seen : undefined;
        return seen ?? this.entries.get(path)?.sha256;
      },
    };
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
      const stem = statCacheStemOf(cacheDir, resolve(base, root));
      return ['.base', '.journal', '.compacting', '.key.json', '.handover'].map((extension) => stem + extension);
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
