/** The per-asset stat cache: its file format, when it is written, what it keeps, and the `seen` paths of the absent-files rule. */
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  LEGACY_STAT_CACHE_FILE,
  StatCache,
  parseStatCache,
  pruneStatCaches,
  serializeStatCache,
  statCacheDirOf,
  statCacheFileOf,
} from './stat-cache';

const stamp = { dev: '1', ino: '2', size: '3', mtimeNs: '4', ctimeNs: '5' };
const A = 'a'.repeat(64);
const B = 'b'.repeat(64);

let dir: string;
let store: string;
let cacheDir: string;
const asset = '/w/asset';
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nxai-statcache-'));
  store = join(dir, '.asset-images');
  cacheDir = statCacheDirOf(store);
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});
const fileOf = (assetDir = asset) => statCacheFileOf(cacheDir, assetDir);
const onDisk = async (assetDir = asset) => JSON.parse(await readFile(fileOf(assetDir), 'utf8')) as Record<string, unknown>;

describe('stat cache file format', () => {
  const entries = new Map([
    [`${asset}/b.bin`, { stamp, sha256: A, size: 3 }],
    [`${asset}/dir/a.bin`, { stamp, sha256: B, size: 3, layers: { k: A } }],
    ['/store/sources/x', { stamp, sha256: A, size: 3 }],
  ]);
  const seen = new Map([[`${asset}/gone.bin`, B]]);

  it('round-trips, with paths relative to the asset folder (absolute outside it), in path order', () => {
    const text = serializeStatCache(asset, entries, seen);
    const data = JSON.parse(text) as { root: string; entries: unknown[][]; seen: unknown[][] };
    expect(data.root).toBe(asset);
    expect(data.entries.map((row) => row[0])).toEqual(['/store/sources/x', 'b.bin', 'dir/a.bin']);
    expect(data.seen).toEqual([['gone.bin', B]]);
    expect(parseStatCache(text, asset)).toEqual({ entries, seen });
  });

  const good = serializeStatCache(asset, entries, seen);
  const row = (r: unknown[]) => JSON.stringify({ version: 2, root: asset, entries: [r], seen: [] });
  it.each([
    ['missing', undefined, 0],
    ['empty', '', 0],
    ['truncated', good.slice(0, good.length / 2), 0],
    ['not JSON', '{corrupt', 0],
    ['an array', '[]', 0],
    ['the legacy version 1', JSON.stringify({ version: 1, entries: { '/w/asset/a': { stamp, sha256: A, size: 3 } } }), 0],
    ['another asset root', serializeStatCache('/w/other', entries, seen), 0],
    ['a bad sha256', row(['a', '1', '2', '3', '4', '5', 'zz']), 0],
    ['a stamp that is not decimal', row(['a', '1', 'x', '3', '4', '5', A]), 0],
    ['too few fields', row(['a', '1', '2', '3', '4', A]), 0],
    ['bad layers', row(['a', '1', '2', '3', '4', '5', A, { k: 'zz' }]), 0],
    ['one good row', row(['a', '1', '2', '3', '4', '5', A]), 1],
  ])('%s text gives %i entries, never throws', (_name, text, count) => {
    expect(parseStatCache(text, asset).entries.size).toBe(count);
  });
});

describe('StatCache persistence', () => {
  it('loads what it saved, one file per asset; a corrupt file is an empty cache', async () => {
    const cache = await StatCache.load(cacheDir, asset);
    expect(cache.size).toBe(0);
    cache.store(`${asset}/x`, stamp, { sha256: A, size: 3, layers: { k: B } });
    await cache.save();
    expect(await readdir(cacheDir)).toEqual([fileOf().split('/').pop()]);
    const loaded = await StatCache.load(cacheDir, asset);
    expect(loaded.lookup(`${asset}/x`, stamp)).toEqual({ stamp, sha256: A, size: 3, layers: { k: B } });
    expect(loaded.lookup(`${asset}/x`, { ...stamp, ctimeNs: '6' })).toBeUndefined();
    expect((await StatCache.load(cacheDir, '/w/other')).size).toBe(0);
    await writeFile(fileOf(), '{"version":2,"root"');
    expect((await StatCache.load(cacheDir, asset)).size).toBe(0);
  });

  it('does not write the file on a no-op (same files, all hits)', async () => {
    const first = await StatCache.load(cacheDir, asset);
    first.lookup(`${asset}/x`, stamp);
    first.store(`${asset}/x`, stamp, { sha256: A, size: 3 });
    first.markSeen(`${asset}/x`, A);
    await first.save();
    const before = await stat(fileOf(), { bigint: true });
    const again = await StatCache.load(cacheDir, asset);
    expect(again.lookup(`${asset}/x`, stamp)?.sha256).toBe(A);
    again.markSeen(`${asset}/x`, A);
    expect(again.dirty).toBe(false);
    await again.save();
    const after = await stat(fileOf(), { bigint: true });
    expect([after.ino, after.mtimeNs]).toEqual([before.ino, before.mtimeNs]);
  });

  it('drops the entries of files that are gone when it saves (a gone file asked about stays as seen content)', async () => {
    const first = await StatCache.load(cacheDir, asset);
    for (const name of ['keep', 'gone', 'pinned']) first.store(`${asset}/${name}`, stamp, { sha256: A, size: 3 });
    await first.save();
    const next = await StatCache.load(cacheDir, asset);
    expect(next.lookup(`${asset}/keep`, stamp)?.sha256).toBe(A);
    // `pinned` is gone but the lock still pins it: asked about, it is kept as seen
    expect(next.hasSeen(`${asset}/pinned`, A)).toBe(true);
    await next.save();
    expect(await onDisk()).toEqual({ version: 2, root: asset, entries: [['keep', '1', '2', '3', '4', '5', A]], seen: [['pinned', A]] });
    const last = await StatCache.load(cacheDir, asset);
    expect(last.hasSeen(`${asset}/pinned`, A)).toBe(true);
    expect(last.hasSeen(`${asset}/gone`, A)).toBe(false);
  });

  it('two processes saving the same asset keep each other’s paths they both use; other assets are other files', async () => {
    const one = await StatCache.load(cacheDir, asset);
    const two = await StatCache.load(cacheDir, asset);
    const other = await StatCache.load(cacheDir, '/w/other');
    one.store(`${asset}/one`, stamp, { sha256: A, size: 3 });
    two.lookup(`${asset}/one`, stamp);
    two.store(`${asset}/two`, stamp, { sha256: B, size: 3 });
    other.store('/w/other/x', stamp, { sha256: B, size: 3 });
    await Promise.all([one.save(), other.save()]);
    await two.save();
    const merged = await StatCache.load(cacheDir, asset);
    expect(merged.lookup(`${asset}/one`, stamp)?.sha256).toBe(A);
    expect(merged.lookup(`${asset}/two`, stamp)?.sha256).toBe(B);
    expect((await StatCache.load(cacheDir, '/w/other')).lookup('/w/other/x', stamp)?.sha256).toBe(B);
  });

  it('deletes the legacy workspace-wide stat-cache.json when it writes', async () => {
    await mkdir(store, { recursive: true });
    await writeFile(join(store, LEGACY_STAT_CACHE_FILE), '{"version":1,"entries":{}}');
    const cache = await StatCache.load(cacheDir, asset);
    cache.store(`${asset}/x`, stamp, { sha256: A, size: 3 });
    await cache.save();
    await expect(stat(join(store, LEGACY_STAT_CACHE_FILE))).rejects.toThrow();
  });
});

describe('pruneStatCaches', () => {
  it('removes only the files (stat cache and content index row) of assets that are gone, and the legacy file; dryRun only reports', async () => {
    const keyRowOf = (root: string) => fileOf(root).replace(/\.json$/, '.key.json');
    for (const root of ['/w/live', '/w/dead']) {
      const cache = await StatCache.load(cacheDir, root);
      cache.store(`${root}/x`, stamp, { sha256: A, size: 3 });
      await cache.save();
      await writeFile(keyRowOf(root), '{}\n');
    }
    await writeFile(join(store, LEGACY_STAT_CACHE_FILE), '{}');
    await writeFile(join(cacheDir, 'not-a-cache.txt'), 'x');
    const expected = [fileOf('/w/dead'), keyRowOf('/w/dead'), join(store, LEGACY_STAT_CACHE_FILE)];
    const dry = await pruneStatCaches(store, ['live'], { dryRun: true, workspaceRoot: '/w' });
    expect(dry.removed).toEqual(expected);
    expect(dry.bytes).toBe((await stat(fileOf('/w/dead'))).size + 3 + 2);
    expect((await readdir(cacheDir)).length).toBe(5);
    const done = await pruneStatCaches(store, ['/w/live']);
    expect(done).toEqual(dry);
    expect((await readdir(cacheDir)).sort()).toEqual(
      [fileOf('/w/live').split('/').pop(), keyRowOf('/w/live').split('/').pop(), 'not-a-cache.txt'].sort(),
    );
    expect(await pruneStatCaches(join(dir, 'no-store'), [])).toEqual({ removed: [], bytes: 0 });
  });
});

describe('StatCache seen paths', () => {
  it('are persisted across save and load and make the cache dirty only when new', async () => {
    const cache = await StatCache.load(cacheDir, asset);
    expect(cache.hasSeen(`${asset}/b.bin`, A)).toBe(false);
    cache.markSeen(`${asset}/b.bin`, A);
    cache.markSeen(`${asset}/a.bin`, A);
    expect(cache.dirty).toBe(true);
    expect(cache.hasSeen(`${asset}/b.bin`, A)).toBe(true);
    await cache.save();
    expect(cache.dirty).toBe(false);
    expect((await onDisk()).seen).toEqual([
      ['a.bin', A],
      ['b.bin', A],
    ]);
    const loaded = await StatCache.load(cacheDir, asset);
    expect(loaded.hasSeen(`${asset}/a.bin`, A)).toBe(true);
    expect(loaded.hasSeen(`${asset}/c.bin`, A)).toBe(false);
    loaded.markSeen(`${asset}/a.bin`, A);
    expect(loaded.dirty).toBe(false);
  });

  it('a path with an entry is seen, is not written twice, and seeing it again does not make the cache dirty', async () => {
    const cache = await StatCache.load(cacheDir, asset);
    cache.markSeen(`${asset}/hashed.bin`, A);
    cache.store(`${asset}/hashed.bin`, stamp, { sha256: A, size: 3 });
    await cache.save();
    const file = (await onDisk()) as { entries: unknown[][]; seen: unknown[] };
    expect(file.entries.map((row) => row[0])).toEqual(['hashed.bin']);
    expect(file.seen).toEqual([]);
    const loaded = await StatCache.load(cacheDir, asset);
    expect(loaded.hasSeen(`${asset}/hashed.bin`, A)).toBe(true);
    loaded.markSeen(`${asset}/hashed.bin`, A);
    expect(loaded.dirty).toBe(false);
  });

  it('are merged with what another process saved meanwhile', async () => {
    const one = await StatCache.load(cacheDir, asset);
    const two = await StatCache.load(cacheDir, asset);
    one.markSeen(`${asset}/one.bin`, A);
    two.markSeen(`${asset}/two.bin`, A);
    two.hasSeen(`${asset}/one.bin`, A);
    two.store(`${asset}/entry.bin`, stamp, { sha256: A, size: 3 });
    await one.save();
    await two.save();
    const merged = await StatCache.load(cacheDir, asset);
    expect([`${asset}/one.bin`, `${asset}/two.bin`, `${asset}/entry.bin`].map((p) => merged.hasSeen(p, A))).toEqual([true, true, true]);
  });

  it('live only in memory for an in-memory cache', async () => {
    const cache = StatCache.inMemory();
    cache.markSeen('/w/a.bin', A);
    expect(cache.hasSeen('/w/a.bin', A)).toBe(true);
    await cache.save();
  });

  it('a path seen with other content is not seen: a new weight at a path this workspace once had is absent, not removed', () => {
    const cache = StatCache.inMemory();
    cache.markSeen('/w/model.bin', A);
    expect(cache.hasSeen('/w/model.bin', A)).toBe(true);
    expect(cache.hasSeen('/w/model.bin', B)).toBe(false);
  });
});
