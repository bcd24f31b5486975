/**
 * Readers and writers of the store against gc, across processes, with the one
 * lock mechanism of the package (`util/file-lock.ts`):
 *
 *   .asset-images/gc.lock         the mutex: held briefly to take a lease, and by gc for its whole run
 *   .asset-images/leases/<pid>-<n>.json   one per running build, push, pull, docker-build, restore
 *
 * A user of the store takes the mutex (so it waits while gc runs), writes its
 * lease, and lets the mutex go: many users share the store at once. gc takes
 * the mutex and keeps it (no new lease can appear), removes leases whose
 * process is gone (the same staleness rule as the lock files: a dead pid on
 * this host, an old mtime elsewhere; a held lease's mtime is refreshed), and
 * then waits until no live lease remains (`wait`) or gives up at once when one
 * does (`try`, the automatic prune after a build: it must never hold a build
 * up). A lease file is created with O_EXCL by `acquireFileLock` itself.
 */
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { acquireFileLock, FileLockTimeoutError, isLockStale, type ReleaseFileLock } from '../util/file-lock';

export const GC_MUTEX_FILE = 'gc.lock';
export const LEASES_DIR = 'leases';
const LEASE_STALE_MS = 10 * 60_000;
let leaseCounter = 0;

export class StoreBusyError extends Error {
  override readonly name = 'StoreBusyError';
  constructor(
    readonly storeRoot: string,
    readonly leases: readonly string[],
    readonly waitedMs: number,
  ) {
    super(`${storeRoot}: ${leases.length} build(s) or push(es) still use the store after ${waitedMs} ms (${leases.join(', ')})`);
  }
}

/**
 * Takes a shared lease on the store: waits while gc runs (at most `timeoutMs`,
 * default as long as gc takes). Returns its release.
 */
export async function acquireStoreLease(storeRoot: string, options: { timeoutMs?: number } = {}): Promise<ReleaseFileLock> {
  const releaseMutex = await acquireFileLock(join(storeRoot, GC_MUTEX_FILE), options);
  try {
    leaseCounter += 1;
    return await acquireFileLock(join(storeRoot, LEASES_DIR, `${process.pid}-${leaseCounter}.json`), {
      timeoutMs: 0,
      staleMs: LEASE_STALE_MS,
    });
  } finally {
    await releaseMutex();
  }
}

/** Runs `fn` holding a store lease. */
export async function withStoreLease<T>(storeRoot: string, fn: () => Promise<T>): Promise<T> {
  const release = await acquireStoreLease(storeRoot);
  try {
    return await fn();
  } finally {
    await release();
  }
}

/** Live leases (file names); removes those of gone processes. */
export async function liveLeases(storeRoot: string): Promise<string[]> {
  const dir = join(storeRoot, LEASES_DIR);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const live: string[] = [];
  for (const name of names.filter((n) => n.endsWith('.json'))) {
    const file = join(dir, name);
    if (await isLockStale(file, LEASE_STALE_MS)) await rm(file, { force: true });
    else live.push(name);
  }
  return live;
}

export interface ExclusiveStoreOptions {
  /** `wait` until the leases are gone (at most `timeoutMs`), or `try`: give up at once when one is live. */
  mode: 'wait' | 'try';
  timeoutMs?: number;
  /** Called once when gc starts waiting, with the live leases. */
  onWait?: (leases: readonly string[]) => void;
}

/**
 * Runs `fn` with the store to itself: no build, push or pull runs meanwhile and
 * none starts. Returns `{ ran: false, leases }` when `try` found the store in use.
 */
export async function withExclusiveStore<T>(
  storeRoot: string,
  options: ExclusiveStoreOptions,
  fn: () => Promise<T>,
): Promise<{ ran: true; value: T } | { ran: false; leases: string[] }> {
  const started = Date.now();
  const timeoutMs = options.mode === 'try' ? 0 : options.timeoutMs;
  let releaseMutex: ReleaseFileLock;
  try {
    releaseMutex = await acquireFileLock(join(storeRoot, GC_MUTEX_FILE), timeoutMs === undefined ? {} : { timeoutMs });
  } catch (error) {
    // Another gc runs, or a build is taking its lease this instant: `try` leaves it to them.
    if (options.mode === 'try' && error instanceof FileLockTimeoutError) return { ran: false, leases: [GC_MUTEX_FILE] };
    throw error;
  }
  try {
    let told = false;
    for (let delay = 20; ; delay = Math.min(delay * 2, 500)) {
      const leases = await liveLeases(storeRoot);
      if (leases.length === 0) break;
      if (options.mode === 'try') return { ran: false, leases };
      if (!told) {
        told = true;
        options.onWait?.(leases);
      }
      const waited = Date.now() - started;
      if (timeoutMs !== undefined && waited > timeoutMs) throw new StoreBusyError(storeRoot, leases, waited);
      await sleep(delay);
    }
    return { ran: true, value: await fn() };
  } finally {
    await releaseMutex();
  }
}
