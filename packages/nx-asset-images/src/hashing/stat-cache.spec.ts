/** The stat cache's `seen` paths: the removal rule of absent files (a pinned file this workspace has had and that is gone was removed). */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StatCache } from './stat-cache';

const stamp = { dev: '1', ino: '2', size: '3', mtimeNs: '4', ctimeNs: '5' };
const A = 'a'.repeat(64);

describe('StatCache seen paths', () => {
  let dir: string;
  let path: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nxai-seen-'));
    path = join(dir, 'stat-cache.json');
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const onDisk = async () =>
    JSON.parse(await readFile(path, 'utf8')) as { entries: Record<string, unknown>; seen?: Record<string, string> };

  it('are persisted across save and load, sorted, and make the cache dirty only when new', async () => {
    const cache = await StatCache.load(path);
    expect(cache.hasSeen('/w/b.bin', A)).toBe(false);
    cache.markSeen('/w/b.bin', A);
    cache.markSeen('/w/a.bin', A);
    expect(cache.dirty).toBe(true);
    expect(cache.hasSeen('/w/b.bin', A)).toBe(true);
    await cache.save();
    expect(cache.dirty).toBe(false);
    expect((await onDisk()).seen).toEqual({ '/w/a.bin': A, '/w/b.bin': A });

    const loaded = await StatCache.load(path);
    expect(loaded.hasSeen('/w/a.bin', A)).toBe(true);
    expect(loaded.hasSeen('/w/c.bin', A)).toBe(false);
    loaded.markSeen('/w/a.bin', A);
    expect(loaded.dirty).toBe(false);
  });

  it('a path with an entry is seen, is not written twice, and seeing it again does not make the cache dirty', async () => {
    const cache = await StatCache.load(path);
    cache.markSeen('/w/hashed.bin', A);
    cache.store('/w/hashed.bin', stamp, { sha256: A, size: 3 });
    await cache.save();
    const file = await onDisk();
    expect(Object.keys(file.entries)).toEqual(['/w/hashed.bin']);
    expect(file.seen).toBeUndefined();

    const loaded = await StatCache.load(path);
    expect(loaded.hasSeen('/w/hashed.bin', A)).toBe(true);
    // Every build marks its files seen: an unchanged workspace must not rewrite the cache on every run.
    loaded.markSeen('/w/hashed.bin', A);
    expect(loaded.dirty).toBe(false);
  });

  it('are merged with what another process saved meanwhile', async () => {
    const one = await StatCache.load(path);
    const two = await StatCache.load(path);
    one.markSeen('/w/one.bin', A);
    two.markSeen('/w/two.bin', A);
    two.store('/w/entry.bin', stamp, { sha256: A, size: 3 });
    await one.save();
    await two.save();
    const merged = await StatCache.load(path);
    expect(['/w/one.bin', '/w/two.bin', '/w/entry.bin'].map((p) => merged.hasSeen(p, A))).toEqual([true, true, true]);
    expect((await onDisk()).seen).toEqual({ '/w/one.bin': A, '/w/two.bin': A });
  });

  it('are dropped with a corrupt cache, and values that are not sha256 hex are ignored', async () => {
    await writeFile(path, JSON.stringify({ version: 1, entries: {}, seen: { '/w/a.bin': A, '/w/b.bin': 3, '/w/c.bin': 'not a sha' } }));
    const cache = await StatCache.load(path);
    expect(cache.hasSeen('/w/a.bin', A)).toBe(true);
    await writeFile(path, '{corrupt');
    expect((await StatCache.load(path)).hasSeen('/w/a.bin', A)).toBe(false);
  });

  it('live only in memory for an in-memory cache', async () => {
    const cache = StatCache.inMemory();
    cache.markSeen('/w/a.bin', A);
    expect(cache.hasSeen('/w/a.bin', A)).toBe(true);
    await cache.save();
  });
});

describe('StatCache seen content', () => {
  it('a path seen with other content is not seen: a new weight at a path this workspace once had is absent, not removed', () => {
    const cache = StatCache.inMemory();
    cache.markSeen('/w/model.bin', A);
    expect(cache.hasSeen('/w/model.bin', A)).toBe(true);
    expect(cache.hasSeen('/w/model.bin', 'b'.repeat(64))).toBe(false);
  });
});
