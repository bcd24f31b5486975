import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  CACHE_DIR_ENV,
  acquireSourceLock,
  cachedSourcePath,
  commitVerifiedSource,
  resolveSourceCacheDir,
  sourceCachePaths,
} from './source-cache';
import { acquireFileLock, FileLockTimeoutError } from '../util/file-lock';

const HEX = 'cd'.repeat(32);

describe('resolveSourceCacheDir', () => {
  it.each([
    [{ workspaceRoot: '/ws', env: {} }, '/ws/.asset-images/sources'],
    [{ workspaceRoot: '/ws', env: { [CACHE_DIR_ENV]: '/big/cache' } }, '/big/cache'],
    [{ workspaceRoot: '/ws', env: { [CACHE_DIR_ENV]: 'rel' } }, '/ws/rel'],
    [{ workspaceRoot: '/ws', cacheDir: '/opt', env: { [CACHE_DIR_ENV]: '/big/cache' } }, '/opt'],
    // empty or blank means unset
    [{ workspaceRoot: '/ws', env: { [CACHE_DIR_ENV]: '' } }, '/ws/.asset-images/sources'],
    [{ workspaceRoot: '/ws', env: { [CACHE_DIR_ENV]: '  ' } }, '/ws/.asset-images/sources'],
    [{ workspaceRoot: '/ws', cacheDir: '', env: { [CACHE_DIR_ENV]: 'rel' } }, '/ws/rel'],
    // relative paths are taken from the workspace root, not from the current directory
    [{ workspaceRoot: '/ws', env: { [CACHE_DIR_ENV]: './cache/sources/' } }, '/ws/cache/sources'],
    [{ workspaceRoot: '/ws', env: { [CACHE_DIR_ENV]: '../shared' } }, '/shared'],
    [{ workspaceRoot: '/ws', cacheDir: 'opt', env: {} }, '/ws/opt'],
    // defaultDir when neither is set
    [{ workspaceRoot: '/ws', env: { [CACHE_DIR_ENV]: '' }, defaultDir: '/store/sources' }, '/store/sources'],
    [{ workspaceRoot: '/ws', env: { [CACHE_DIR_ENV]: '/big/cache' }, defaultDir: '/store/sources' }, '/big/cache'],
  ])('%j -> %s', (options, dir) => {
    expect(resolveSourceCacheDir(options)).toBe(dir);
  });
});

describe('sourceCachePaths', () => {
  it('lays out entry, partial and lock', () => {
    expect(sourceCachePaths('/c', HEX)).toEqual({
      entry: `/c/sha256/${HEX}`,
      partial: `/c/partial/${HEX}.part`,
      lock: `/c/partial/${HEX}.lock`,
    });
  });

  it.each(['../../etc/passwd', HEX.toUpperCase(), 'abc'])('rejects %s', (bad) => {
    expect(() => sourceCachePaths('/c', bad)).toThrow(TypeError);
  });
});

describe('cache entries and lock', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nx-asset-images-cache-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('finds an entry only after it was committed', async () => {
    expect(await cachedSourcePath(HEX, dir)).toBeUndefined();
    await mkdir(join(dir, 'partial'), { recursive: true });
    const { partial } = sourceCachePaths(dir, HEX);
    await writeFile(partial, 'bytes');
    expect(await cachedSourcePath(HEX, dir)).toBeUndefined();

    const entry = await commitVerifiedSource(dir, HEX, partial);

    expect(await cachedSourcePath(HEX, dir)).toBe(entry);
    expect(await readFile(entry, 'utf8')).toBe('bytes');
    expect(existsSync(partial)).toBe(false);
  });

  it('makes a second taker wait until the first releases', async () => {
    const release = await acquireSourceLock(dir, HEX);
    let second = false;
    const waiting = acquireSourceLock(dir, HEX).then((releaseSecond) => {
      second = true;
      return releaseSecond;
    });
    // While the first holds it, the lock cannot be had: a taker that will not wait fails, and the lock is still ours.
    const { lock } = sourceCachePaths(dir, HEX);
    await expect(acquireFileLock(lock, { timeoutMs: 0 })).rejects.toBeInstanceOf(FileLockTimeoutError);
    expect(JSON.parse(await readFile(lock, 'utf8'))).toMatchObject({ pid: process.pid });
    expect(second).toBe(false);

    await release();
    const releaseSecond = await waiting;
    expect(second).toBe(true);
    await releaseSecond();
    expect(existsSync(sourceCachePaths(dir, HEX).lock)).toBe(false);
  });

  it('steals a lock whose process is gone', async () => {
    const { lock } = sourceCachePaths(dir, HEX);
    await mkdir(join(dir, 'partial'), { recursive: true });
    const { hostname } = await import('node:os');
    await writeFile(lock, JSON.stringify({ pid: 2 ** 22 + 12345, host: hostname() }));

    const release = await acquireSourceLock(dir, HEX, AbortSignal.timeout(5_000));

    expect(JSON.parse(await readFile(lock, 'utf8'))).toMatchObject({ pid: process.pid });
    await release();
  });
});
