/**
 * The persistent stat cache: absolute path → (dev, ino, size, mtime ns,
 * ctime ns) → content sha256 and single-file layer digests. A file whose
 * stat still matches is never opened again.
 *
 * One JSON file (e.g. `<workspaceRoot>/.asset-images/stat-cache.json`), loaded
 * once and saved atomically; a missing or corrupt file means an empty cache.
 * Saving merges with what is on disk, so parallel Nx tasks that share the
 * file lose as little as possible.
 */
import { createHash } from 'node:crypto';
import type { BigIntStats } from 'node:fs';
import { readFile } from 'node:fs/promises';
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

interface StatCacheFile {
  version: 1;
  entries: Record<string, StatCacheEntry>;
  /** Asset files this workspace has had, path -> the sha256 it had, hashed or not (the removal rule of absent files: see `hasSeen`). */
  seen?: Record<string, string>;
}

const CACHE_VERSION = 1;

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

function isStamp(value: unknown): value is FileStamp {
  const s = value as Record<string, unknown> | null;
  return (
    s !== null &&
    typeof s === 'object' &&
    ['dev', 'ino', 'size', 'mtimeNs', 'ctimeNs'].every((key) => typeof s[key] === 'string' && /^\d+$/.test(s[key] as string))
  );
}

function isEntry(value: unknown): value is StatCacheEntry {
  const e = value as Record<string, unknown> | null;
  if (e === null || typeof e !== 'object' || !isStamp(e.stamp)) return false;
  if (typeof e.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(e.sha256) || !Number.isSafeInteger(e.size)) return false;
  if (e.layers === undefined) return true;
  const layers = e.layers as Record<string, unknown> | null;
  return (
    layers !== null && typeof layers === 'object' && Object.values(layers).every((v) => typeof v === 'string' && /^[0-9a-f]{64}$/.test(v))
  );
}

/** Entries and seen paths of a cache file's text; invalid text or entries are dropped, never thrown. */
function parseFile(text: string | undefined): { entries: Map<string, StatCacheEntry>; seen: Map<string, string> } {
  const entries = new Map<string, StatCacheEntry>();
  const seen = new Map<string, string>();
  if (text === undefined) return { entries, seen };
  try {
    const data = JSON.parse(text) as Partial<StatCacheFile> | null;
    if (data?.version !== CACHE_VERSION || data.entries === null || typeof data.entries !== 'object') return { entries, seen };
    for (const [path, entry] of Object.entries(data.entries)) {
      if (isEntry(entry)) entries.set(path, entry);
    }
    if (data.seen !== null && typeof data.seen === 'object' && !Array.isArray(data.seen)) {
      for (const [path, sha] of Object.entries(data.seen)) if (typeof sha === 'string' && /^[0-9a-f]{64}$/.test(sha)) seen.set(path, sha);
    }
  } catch {
    // a corrupt cache is an empty cache
  }
  return { entries, seen };
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
  /** Paths set or deleted since load: these win over the disk when saving. */
  private readonly touched = new Set<string>();
  private readonly seen: Map<string, string>;
  private seenAdded = false;

  private constructor(
    /** Where the cache is saved; `undefined` for an in-memory cache. */
    readonly path: string | undefined,
    entries: Map<string, StatCacheEntry>,
    seen: Map<string, string> = new Map(),
  ) {
    this.entries = entries;
    this.seen = seen;
  }

  /** Loads the cache at `path`; a missing or corrupt file gives an empty cache. */
  static async load(path: string): Promise<StatCache> {
    const { entries, seen } = parseFile(await readIfExists(path));
    return new StatCache(path, entries, seen);
  }

  /** A cache that lives only as long as the object (`save()` does nothing). */
  static inMemory(): StatCache {
    return new StatCache(undefined, new Map());
  }

  /** Records that this workspace has had the file at `absPath` with this content (whether or not its hash could be cached). */
  markSeen(absPath: string, sha256: string): void {
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

  /** Writes the cache atomically, merged with entries other processes saved meanwhile (ours win). No-op when clean or in-memory. */
  async save(): Promise<void> {
    if (!this.path || !this.dirty) return;
    const onDisk = parseFile(await readIfExists(this.path));
    for (const [path, entry] of onDisk.entries) {
      if (!this.touched.has(path)) this.entries.set(path, entry);
    }
    for (const [path, sha] of onDisk.seen) if (!this.seen.has(path)) this.seen.set(path, sha);
    const sorted: Record<string, StatCacheEntry> = {};
    for (const path of [...this.entries.keys()].sort()) sorted[path] = this.entries.get(path)!;
    const seen: Record<string, string> = {};
    for (const [path, sha] of [...this.seen].sort(([a], [b]) => (a < b ? -1 : 1)))
      if (this.entries.get(path)?.sha256 !== sha) seen[path] = sha;
    const file: StatCacheFile = { version: CACHE_VERSION, entries: sorted, ...(Object.keys(seen).length > 0 ? { seen } : {}) };
    await writeFileAtomic(this.path, `${JSON.stringify(file)}\n`);
    this.touched.clear();
    this.seenAdded = false;
  }
}
