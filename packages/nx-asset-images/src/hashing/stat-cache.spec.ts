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
  const onDisk = async () => JSON.parse(await readFile(path, 'utf8')) as { entries: Record<string, unknown>; seen?: string[] };

  it('are persisted across save and load, sorted, and make the cache dirty only when new', async () => {
    const cache = await StatCache.load(path);
    expect(cache.hasSeen('/w/b.bin')).toBe(false);
    cache.markSeen('/w/b.bin');
    cache.markSeen('/w/a.bin');
    expect(cache.dirty).toBe(true);
    expect(cache.hasSeen('/w/b.bin')).toBe(true);
    await cache.save();
    expect(cache.dirty).toBe(false);
    expect((await onDisk()).seen).toEqual(['/w/a.bin', '/w/b.bin']);

    const loaded = await StatCache.load(path);
    expect(loaded.hasSeen('/w/a.bin')).toBe(true);
    expect(loaded.hasSeen('/w/c.bin')).toBe(false);
    loaded.markSeen('/w/a.bin');
    expect(loaded.dirty).toBe(false);
  });

  it('a path with an entry is seen, is not written twice, and seeing it again does not make the cache dirty', async () => {
    const cache = await StatCache.load(path);
    cache.markSeen('/w/hashed.bin');
    cache.store('/w/hashed.bin', stamp, { sha256: A, size: 3 });
    await cache.save();
    const file = await onDisk();
    expect(Object.keys(file.entries)).toEqual(['/w/hashed.bin']);
    expect(file.seen).toBeUndefined();

    const loaded = await StatCache.load(path);
    expect(loaded.hasSeen('/w/hashed.bin')).toBe(true);
    // Every build marks its files seen: an unchanged workspace must not rewrite the cache on every run.
    loaded.markSeen('/w/hashed.bin');
    expect(loaded.dirty).toBe(false);
  });

  it('are merged with what another process saved meanwhile', async () => {
    const one = await StatCache.load(path);
    const two = await StatCache.load(path);
    one.markSeen('/w/one.bin');
    two.markSeen('/w/two.bin');
    two.store('/w/entry.bin', stamp, { sha256: A, size: 3 });
    await one.save();
    await two.save();
    const merged = await StatCache.load(path);
    expect(['/w/one.bin', '/w/two.bin', '/w/entry.bin'].map((p) => merged.hasSeen(p))).toEqual([true, true, true]);
    expect((await onDisk()).seen).toEqual(['/w/one.bin', '/w/two.bin']);
  });

  it('are dropped with a corrupt cache, and non-strings in the list are ignored', async () => {
    await writeFile(path, JSON.stringify({ version: 1, entries: {}, seen: ['/w/a.bin', 3, null] }));
    const cache = await StatCache.load(path);
    expect(cache.hasSeen('/w/a.bin')).toBe(true);
    await writeFile(path, '{corrupt');
    expect((await StatCache.load(path)).hasSeen('/w/a.bin')).toBe(false);
  });

  it('live only in memory for an in-memory cache', async () => {
    const cache = StatCache.inMemory();
    cache.markSeen('/w/a.bin');
    expect(cache.hasSeen('/w/a.bin')).toBe(true);
    await cache.save();
  });
});
