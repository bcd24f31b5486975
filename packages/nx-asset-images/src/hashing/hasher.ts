/**
 * Streaming sha256 of asset files with a persistent stat cache.
 *
 * - A file whose (dev, ino, size, mtime ns, ctime ns) matches the cache is
 *   never opened.
 * - Hashing runs on a pool of worker threads with large reusable buffers.
 * - When a frame (the tar bytes around a single-file layer) is given, the
 *   layer digest sha256(prefix ‖ content ‖ suffix) is computed from the same
 *   read: on a pool of 2+ threads one thread reads a big file into shared
 *   buffers and hashes the content while another hashes the framed stream,
 *   so a cold file costs about one sha256 pass of wall time.
 * - A file that changes while being read is read again; a file stamped within
 *   `racyWindowMs` of being stat'ed is hashed but not cached (its timestamps
 *   cannot yet prove a later same-size write).
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync, type BigIntStats } from 'node:fs';
import type { Digest } from '../oci/image';
import type { OnProgress } from '../util/progress';
import { AssetHashError } from '../errors/asset-errors';
import type { HashJob, HashJobResult } from './hash-worker';
import { HashPool, type HashPoolOptions } from './hash-worker-pool';
import { readAhead } from '../util/read-ahead';
import { frameKey, sameStamp, stampOf, type FileStamp, type StatCache } from './stat-cache';

export interface HashInputFile {
  absPath: string;
  size: number;
  /** Used as progress label when given (else `absPath`). */
  relPath?: string;
  /** This file's frame: its single-file layer digest is computed too (per input, so two inputs sharing an absPath, e.g. a symlink and its target, get their own). */
  frame?: HashFrame;
  /** The stat the caller already took of `absPath` (the file scan's): not stat'ed again before the cache lookup. */
  stamped?: Stamped;
}

/** The tar bytes around a file in its single-file layer (from `singleFileFrame`). */
export interface HashFrame {
  prefix: Buffer;
  suffix: Buffer;
}

export interface FileHash {
  absPath: string;
  /** Hex sha256 of the content. */
  sha256: string;
  size: number;
  /** Digest of prefix ‖ content ‖ suffix, when a frame was given for the file. */
  layerDigest?: Digest;
  /** True when nothing was read: the stat cache answered for everything asked. */
  fromCache: boolean;
}

export interface HashFilesOptions {
  /** The stat cache to consult and fill; the caller saves it. */
  cache?: StatCache;
  onProgress?: OnProgress;
  /** Threads (or slots) of the pool; default `os.availableParallelism()`. Ignored when `pool` is given. */
  concurrency?: number;
  /** A pool to reuse across calls (not closed by `hashFiles`). */
  pool?: HashPool;
  /** Worker entry override (`false`: hash in this thread). Ignored when `pool` is given. */
  workerFile?: HashPoolOptions['workerFile'];
  /** A file whose mtime/ctime is this close to the moment it was stat'ed is not cached. Default 2000 ms; 0 disables. */
  racyWindowMs?: number;
  /** Files at least this big get their content and framed hashes on two threads sharing one read. Default 32 MiB. */
  splitThreshold?: number;
}

/** Counters of the work actually done, for tests and reports. */
export const hashCounters = { filesOpened: 0, bytesRead: 0 };

const DEFAULT_RACY_WINDOW_MS = 2000;
const DEFAULT_SPLIT_THRESHOLD = 32 * 1024 * 1024;
const MAX_ATTEMPTS = 3;

export async function hashFiles(files: readonly HashInputFile[], options: HashFilesOptions = {}): Promise<FileHash[]> {
  const ownPool = options.pool ? undefined : new HashPool({ size: options.concurrency, workerFile: options.workerFile });
  const pool = options.pool ?? ownPool!;
  try {
    // Synchronous stats: on a no-op of 100,000 files, a promise and a libuv thread-pool round trip per file
    // cost more than the stat itself (local disks answer from the inode cache).
    const stamps = files.map((file) => file.stamped ?? statStampSync(file.absPath));
    const results = new Array<FileHash>(files.length);
    // Cache hits answered here, without a promise per file: a no-op is all hits.
    const misses: number[] = [];
    for (let index = 0; index < files.length; index++) {
      const hit = cachedHash(files[index]!, stamps[index]!.stamp, options.cache);
      if (hit) results[index] = hit;
      else misses.push(index);
    }
    // Files read whole here (small, no frame): one after the other in path order, the next few read ahead on
    // the thread pool (a cold disk answers several reads at once; one promise per file would cost more than
    // the read). The others go to the pool, largest first: the long jobs start early, alongside.
    const inline = misses.filter((index) => isInline(files[index]!, stamps[index]!.stamp));
    const pooled = misses.filter((index) => !isInline(files[index]!, stamps[index]!.stamp));
    pooled.sort((a, b) => Number(stamps[b]!.stamp.size) - Number(stamps[a]!.stamp.size));
    const readInline = async () => {
      const ahead = readAhead(inline.map((index) => ({ path: files[index]!.absPath, size: Number(stamps[index]!.stamp.size) })));
      for (const [k, index] of inline.entries()) {
        results[index] = await hashOne(files[index]!, stamps[index]!, pool, options, () => ahead(k));
      }
    };
    await Promise.all([
      readInline(),
      ...pooled.map(async (index) => {
        results[index] = await hashOne(files[index]!, stamps[index]!, pool, options);
      }),
    ]);
    return results;
  } finally {
    await ownPool?.close();
  }
}

export interface Stamped {
  stamp: FileStamp;
  /** Wall clock (ns since epoch) when the stat was taken. */
  statTimeNs: bigint;
}

/** The file's stat now, as the cache keys it (AssetHashError when it cannot be stat'ed or is not a regular file). */
export function statStampSync(absPath: string): Stamped {
  const statTimeNs = BigInt(Date.now()) * 1_000_000n;
  let stats: BigIntStats;
  try {
    stats = statSync(absPath, { bigint: true });
  } catch (error) {
    throw new AssetHashError(absPath, `cannot be read: ${(error as Error).message}`, { cause: error });
  }
  if (!stats.isFile()) throw new AssetHashError(absPath, 'is not a regular file');
  return { stamp: stampOf(stats), statTimeNs };
}

/** The file's hashes when the cache has them all for this stamp (content, and the layer digest of its frame if any). */
export function cachedHash(file: HashInputFile, stamp: FileStamp, cache: StatCache | undefined): FileHash | undefined {
  const cached = cache?.lookup(file.absPath, stamp);
  if (!cached) return undefined;
  const result: FileHash = { absPath: file.absPath, sha256: cached.sha256, size: cached.size, fromCache: true };
  if (!file.frame) return result;
  const layer = cached.layers?.[frameKey(file.frame.prefix, file.frame.suffix)];
  return layer === undefined ? undefined : withLayer(result, layer);
}

/** Whether a missed file is hashed in this thread from one whole read (`hashInline`). */
function isInline(file: HashInputFile, stamp: FileStamp): boolean {
  return file.frame === undefined && Number(stamp.size) <= INLINE_HASH_MAX_BYTES;
}

async function hashOne(
  file: HashInputFile,
  stamped: Stamped,
  pool: HashPool,
  options: HashFilesOptions,
  /** The whole file, read ahead (for the first attempt of an inline hash). */
  prefetched?: () => Promise<Buffer>,
): Promise<FileHash> {
  const frame = file.frame;
  const key = frame ? frameKey(frame.prefix, frame.suffix) : undefined;
  let current = stamped;
  for (let attempt = 1; ; attempt++) {
    const cached = options.cache?.lookup(file.absPath, current.stamp);
    const cachedLayer = key ? cached?.layers?.[key] : undefined;
    const needContent = !cached;
    const needFrame = frame !== undefined && cachedLayer === undefined;
    if (!needContent && !needFrame) {
      return withLayer({ absPath: file.absPath, sha256: cached!.sha256, size: cached!.size, fromCache: true }, cachedLayer);
    }
    const size = Number(current.stamp.size);
    if (frame && size !== file.size) {
      // The frame's tar header was made for `file.size` bytes: a digest for another size would name a broken layer.
      throw new AssetHashError(file.absPath, `changed size since it was listed (${file.size} bytes, now ${size}); run again`);
    }
    const computed = await readAndHash(file, size, pool, frame, needContent, needFrame, options, attempt === 1 ? prefetched : undefined);
    // Synchronous, as the stats before: one thread-pool round trip per file would cost a corpus more than its reads.
    const after = statStampSync(file.absPath);
    if (sameStamp(after.stamp, current.stamp) && computed.size === size) {
      const sha256 = computed.sha256 ?? cached!.sha256;
      const framed = computed.framedSha256 ?? cachedLayer;
      rememberHash(file, current, { sha256, size, framedSha256: framed }, options);
      return withLayer({ absPath: file.absPath, sha256, size, fromCache: false }, framed);
    }
    if (attempt >= MAX_ATTEMPTS) {
      throw new AssetHashError(file.absPath, `kept changing while being read (${attempt} attempts); stop writing to it and retry`);
    }
    current = after;
  }
}

/**
 * Puts a hash read from `file` (stat'ed as `stamped` before the read, and found unchanged after it) into
 * `options.cache`, unless its timestamps are within the racy window of that stat (they cannot yet prove
 * a later same-size write).
 */
export function rememberHash(
  file: HashInputFile,
  stamped: Stamped,
  value: { sha256: string; size: number; framedSha256?: string },
  options: Pick<HashFilesOptions, 'cache' | 'racyWindowMs'>,
): void {
  const racyWindowNs = BigInt(options.racyWindowMs ?? DEFAULT_RACY_WINDOW_MS) * 1_000_000n;
  const { stamp } = stamped;
  const newest = BigInt(stamp.mtimeNs) > BigInt(stamp.ctimeNs) ? BigInt(stamp.mtimeNs) : BigInt(stamp.ctimeNs);
  if (!options.cache || (racyWindowNs !== 0n && stamped.statTimeNs - newest < racyWindowNs)) return;
  const key = file.frame ? frameKey(file.frame.prefix, file.frame.suffix) : undefined;
  const layers = key && value.framedSha256 ? { [key]: value.framedSha256 } : undefined;
  options.cache.store(file.absPath, stamp, { sha256: value.sha256, size: value.size, layers });
}

function withLayer(result: FileHash, framedHex: string | undefined): FileHash {
  if (framedHex !== undefined) result.layerDigest = `sha256:${framedHex}`;
  return result;
}

async function readAndHash(
  file: HashInputFile,
  size: number,
  pool: HashPool,
  frame: HashFrame | undefined,
  needContent: boolean,
  needFrame: boolean,
  options: HashFilesOptions,
  prefetched: (() => Promise<Buffer>) | undefined,
): Promise<HashJobResult> {
  const label = file.relPath ?? file.absPath;
  const total = size;
  const report = options.onProgress ? (bytes: number) => options.onProgress!({ label, bytes, total }) : undefined;
  const frameJob = (mode: 'frame' | 'both'): HashJob => ({ path: file.absPath, mode, prefix: frame!.prefix, suffix: frame!.suffix });
  const count = async (work: () => Promise<HashJobResult>) => {
    try {
      const result = await work();
      hashCounters.filesOpened++;
      hashCounters.bytesRead += result.size;
      return result;
    } catch (error) {
      throw new AssetHashError(file.absPath, `cannot be hashed: ${(error as Error).message}`, { cause: error });
    }
  };
  const run = (job: HashJob, progress?: (bytes: number) => void) => count(() => pool.run(job, progress));
  if (needContent && needFrame) {
    if (pool.canShareReads && size >= (options.splitThreshold ?? DEFAULT_SPLIT_THRESHOLD)) {
      return count(() => pool.runSharedRead(file.absPath, frame!.prefix, frame!.suffix, report));
    }
    return run(frameJob('both'), report);
  }
  if (needFrame) return run(frameJob('frame'), report);
  // A small file is read and hashed here: a worker round trip costs more than the sha256 of a few KiB
  // (corpora of 100,000 files hashed at ~1.4 ms a file through the pool).
  if (size <= INLINE_HASH_MAX_BYTES)
    return count(async () => hashInline(prefetched ? await prefetched() : readFileSync(file.absPath), report));
  return run({ path: file.absPath, mode: 'content' }, report);
}

/** Files up to this size are hashed in the calling thread (one read, no worker message). */
const INLINE_HASH_MAX_BYTES = 256 * 1024;

function hashInline(bytes: Buffer, report: ((bytes: number) => void) | undefined): HashJobResult {
  report?.(bytes.length);
  return { sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length };
}
