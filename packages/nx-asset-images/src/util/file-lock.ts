import { mkdir, rm, stat } from 'node:fs/promises';

export interface FileLockOptions {
  /** Give up after this long, default 60 s. */
  timeoutMs?: number;
  /** A lock older than this is taken to be left by a dead process, default 120 s. */
  staleMs?: number;
}

export class FileLockTimeoutError extends Error {
  override readonly name = 'FileLockTimeoutError';
  constructor(readonly lockPath: string, readonly waitedMs: number) {
    super(`${lockPath}: still locked after ${waitedMs} ms (remove it if no build is running)`);
  }
}

/**
 * Runs `fn` while holding a lock directory at `lockPath` (mkdir is atomic on
 * every local filesystem), so concurrent processes (parallel Nx tasks) serialise
 * a read-modify-write of a shared file. Hand-written: it is a dozen lines, and
 * the packages that do this pull in more than they add here.
 */
export async function withFileLock<T>(lockPath: string, fn: () => Promise<T>, options: FileLockOptions = {}): Promise<T> {
  const timeout = options.timeoutMs ?? 60_000;
  const stale = options.staleMs ?? 120_000;
  const started = Date.now();
  for (let delay = 10; ; delay = Math.min(delay * 2, 200)) {
    try {
      await mkdir(lockPath);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const info = await stat(lockPath).catch(() => undefined);
      if (info && Date.now() - info.mtimeMs > stale) {
        await rm(lockPath, { recursive: true, force: true });
        continue;
      }
      if (Date.now() - started > timeout) throw new FileLockTimeoutError(lockPath, Date.now() - started);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
  try {
    return await fn();
  } finally {
    await rm(lockPath, { recursive: true, force: true });
  }
}
