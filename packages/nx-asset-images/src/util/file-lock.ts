/**
 * A cross-process lock: a file created with `O_EXCL` (atomic on every local
 * filesystem) holding its owner `{ pid, host }`, its mtime refreshed while
 * held. A waiting process takes the lock over when its holder is gone: on
 * this host when the pid is no longer alive, elsewhere (or when the owner
 * cannot be read) when the mtime is older than `staleMs`.
 *
 * Hand-written: proper-lockfile judges staleness by mtime only (a crashed
 * holder blocks everyone for the stale period) and locks a directory beside
 * the path; this one knows a dead pid at once.
 */
import { hostname } from 'node:os';
import { mkdir, open, readFile, rm, stat, utimes } from 'node:fs/promises';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface FileLockOptions {
  /** Give up after this long (`FileLockTimeoutError`). Default: wait as long as a live holder keeps it. */
  timeoutMs?: number;
  /** A lock not refreshed for this long is taken to be left by a dead process (on another host, or unreadable). Default 60 s. */
  staleMs?: number;
  /** Stops waiting (rejects with the signal's reason). */
  signal?: AbortSignal;
}

export class FileLockTimeoutError extends Error {
  override readonly name = 'FileLockTimeoutError';
  constructor(
    readonly lockPath: string,
    readonly waitedMs: number,
  ) {
    super(`${lockPath}: still locked after ${waitedMs} ms (remove it if no build is running)`);
  }
}

/** Releases a held lock; calling it again does nothing. */
export type ReleaseFileLock = () => Promise<void>;

interface LockOwner {
  pid: number;
  host: string;
}

const DEFAULT_STALE_MS = 60_000;
const MAX_POLL_MS = 200;

/** Takes the lock at `lockPath` (its directory is created), waiting while a live holder has it. */
export async function acquireFileLock(lockPath: string, options: FileLockOptions = {}): Promise<ReleaseFileLock> {
  const staleMs = options.staleMs ?? DEFAULT_STALE_MS;
  const started = Date.now();
  await mkdir(dirname(lockPath), { recursive: true });
  for (let delay = 10; ; delay = Math.min(delay * 2, MAX_POLL_MS)) {
    options.signal?.throwIfAborted();
    if (await tryCreate(lockPath)) return holdLock(lockPath, staleMs);
    if (await isStale(lockPath, staleMs)) {
      await rm(lockPath, { recursive: true, force: true });
      continue;
    }
    const waited = Date.now() - started;
    if (options.timeoutMs !== undefined && waited > options.timeoutMs) throw new FileLockTimeoutError(lockPath, waited);
    await sleep(delay, undefined, options.signal ? { signal: options.signal } : {});
  }
}

/** Runs `fn` holding the lock at `lockPath`, so concurrent processes (parallel Nx tasks) serialise a read-modify-write of a shared file. Default timeout 60 s. */
export async function withFileLock<T>(lockPath: string, fn: () => Promise<T>, options: FileLockOptions = {}): Promise<T> {
  const release = await acquireFileLock(lockPath, { timeoutMs: 60_000, ...options });
  try {
    return await fn();
  } finally {
    await release();
  }
}

async function tryCreate(lockPath: string): Promise<boolean> {
  let handle;
  try {
    handle = await open(lockPath, 'wx');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  try {
    await handle.writeFile(JSON.stringify({ pid: process.pid, host: hostname() } satisfies LockOwner));
  } finally {
    await handle.close();
  }
  return true;
}

function holdLock(lockPath: string, staleMs: number): ReleaseFileLock {
  const refresh = setInterval(
    () => {
      const now = new Date();
      utimes(lockPath, now, now).catch(() => undefined);
    },
    Math.max(1, Math.floor(staleMs / 6)),
  );
  refresh.unref();
  let released = false;
  return async () => {
    if (released) return;
    released = true;
    clearInterval(refresh);
    await rm(lockPath, { force: true });
  };
}

/**
 * Whether the lock (or lease) file at `lockPath` was left by a process that is gone:
 * on this host a dead pid, elsewhere (or unreadable) older than `staleMs`.
 */
export async function isLockStale(lockPath: string, staleMs: number = DEFAULT_STALE_MS): Promise<boolean> {
  return isStale(lockPath, staleMs);
}

async function isStale(lockPath: string, staleMs: number): Promise<boolean> {
  let mtimeMs: number;
  try {
    mtimeMs = (await stat(lockPath)).mtimeMs;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false; // released meanwhile: just retry
    throw error;
  }
  const owner = await readOwner(lockPath);
  if (owner?.host === hostname()) return owner.pid !== process.pid && !processIsAlive(owner.pid);
  // Another host's, or not (yet) readable (its writer is between open and write, or died there): by age.
  return Date.now() - mtimeMs > staleMs;
}

async function readOwner(lockPath: string): Promise<LockOwner | undefined> {
  try {
    const owner = JSON.parse(await readFile(lockPath, 'utf8')) as Partial<LockOwner>;
    return typeof owner.pid === 'number' && typeof owner.host === 'string' ? { pid: owner.pid, host: owner.host } : undefined;
  } catch {
    return undefined;
  }
}

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
