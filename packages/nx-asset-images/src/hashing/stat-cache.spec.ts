/** The per-asset stat cache's files: when they are written (appended, compacted), what they keep, and the `seen` paths of the absent-files rule. Formats: stat-cache-format.spec.ts. */
import { appendFile, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  LEGACY_STAT_CACHE_FILE,
  StatCache,
  compactStatCache,
  historyStampOfCache,
  pruneStatCaches,
  readStatCacheFiles,
  statCacheDirOf,
  statCacheFileOf,
  statCacheJournalOf,
} from './stat-cache';
import { parseJournal } from './stat-cache-format';

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
const journalOf = (assetDir = asset) => statCacheJournalOf(fileOf(assetDir));
/** What a load reads (base + journal): rows of relative paths, in path order. */
const onDisk = async (assetDir = asset) => {
  const { cache } = await readStatCacheFiles(fileOf(assetDir), assetDir);
  const relative = (path: string) => path.slice(assetDir.length + 1);
  const sorted = <V>(map: Map<string, V>) => [...map].sort(([a], [b]) => (a < b ? -1 : 1));
  return {
    entries: sorted(cache.entries).map(([path, { stamp: s, sha256, layers }]) => [
      relative(path),
      ...[s.dev, s.ino, s.size, s.mtimeNs, s.ctimeNs, sha256],
      ...(layers ? [layers] : []),
    ]),
    seen: sorted(cache.seen).map(([path, sha256]) => [relative(path), sha256]),
  };
};
const journalRows = async (assetDir = asset) => parseJournal(await readFile(journalOf(assetDir), 'utf8').catch(() => ''), assetDir);
const inodeSizeMtime = async (path: string) => {
  const stats = await stat(path, { bigint: true });
  return [stats.ino, stats.size, stats.mtimeNs];
};
const name = (path: string) => path.split('/').pop()!;
/** A saved cache of `count` files `f<i>` (more than 1,000 rows: written as a base, no journal). */
async function seed(count: number): Promise<void> {
  const cache = await StatCache.load(cacheDir, asset);
  for (let i = 0; i < count; i++) cache.store(`${asset}/f${i}`, stamp, { sha256: A, size: 3 });
  await cache.save();
}
/** A loaded cache that used every seeded file (all hits). */
async function usingSeeded(count: number): Promise<StatCache> {
  const cache = await StatCache.load(cacheDir, asset);
  for (let i = 0; i < count; i++) expect(cache.lookup(`${asset}/f${i}`, stamp)).toBeDefined();
  return cache;
}

describe('StatCache persistence', () => {
  it('loads what it saved, one file per asset; a corrupt file is an empty cache', async () => {
    const cache = await StatCache.load(cacheDir, asset);
    expect(cache.size).toBe(0);
    cache.store(`${asset}/x`, stamp, { sha256: A, size: 3, layers: { k: B } });
    await cache.save();
    expect(await readdir(cacheDir)).toEqual([name(journalOf())]);
    const loaded = await StatCache.load(cacheDir, asset);
    expect(loaded.lookup(`${asset}/x`, stamp)).toEqual({ stamp, sha256: A, size: 3, layers: { k: B } });
    expect(loaded.lookup(`${asset}/x`, { ...stamp, ctimeNs: '6' })).toBeUndefined();
    expect((await StatCache.load(cacheDir, '/w/other')).size).toBe(0);
    await writeFile(journalOf(), '["e","x"');
    expect((await StatCache.load(cacheDir, asset)).size).toBe(0);
    await writeFile(fileOf(), '{"version":3,"root"');
    expect((await StatCache.load(cacheDir, asset)).size).toBe(0);
  });

  it('does not write either file on a no-op (same files, all hits)', async () => {
    const first = await StatCache.load(cacheDir, asset);
    first.lookup(`${asset}/x`, stamp);
    first.store(`${asset}/x`, stamp, { sha256: A, size: 3 });
    first.markSeen(`${asset}/x`, A);
    await first.save();
    const before = await stat(journalOf(), { bigint: true });
    const again = await StatCache.load(cacheDir, asset);
    expect(again.lookup(`${asset}/x`, stamp)?.sha256).toBe(A);
    again.markSeen(`${asset}/x`, A);
    expect(again.dirty).toBe(false);
    await again.save();
    const after = await stat(journalOf(), { bigint: true });
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
    expect(await onDisk()).toEqual({ entries: [['keep', '1', '2', '3', '4', '5', A]], seen: [['pinned', A]] });
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

  it("deletes the caches of earlier versions when it writes: the workspace-wide stat-cache.json, the asset's version 2 <16 hex>.json", async () => {
    await mkdir(cacheDir, { recursive: true });
    await writeFile(join(store, LEGACY_STAT_CACHE_FILE), '{"version":1,"entries":{}}');
    await writeFile(fileOf().replace(/\.base$/, '.json'), '{"version":2}');
    const cache = await StatCache.load(cacheDir, asset);
    expect(cache.size).toBe(0);
    cache.store(`${asset}/x`, stamp, { sha256: A, size: 3 });
    await cache.save();
    await expect(stat(join(store, LEGACY_STAT_CACHE_FILE))).rejects.toThrow();
    expect(await readdir(cacheDir)).toEqual([name(journalOf())]);
  });
});

describe('pruneStatCaches', () => {
  it('removes the files (base, journal, compaction lock, content index row) of assets that are gone, caches of earlier versions, nothing else; dryRun only reports', async () => {
    const keyRowOf = (root: string) => fileOf(root).replace(/\.base$/, '.key.json');
    const lockOf = (root: string) => fileOf(root).replace(/\.base$/, '.compacting');
    await mkdir(cacheDir, { recursive: true });
    for (const root of ['/w/live', '/w/dead']) {
      await writeFile(fileOf(root), '{}');
      await writeFile(journalOf(root), '[]\n');
      await writeFile(keyRowOf(root), '{}\n');
      await writeFile(lockOf(root), '1\n');
    }
    const version2 = fileOf('/w/live').replace(/\.base$/, '.json');
    await writeFile(version2, '{"version":2}');
    await writeFile(join(store, LEGACY_STAT_CACHE_FILE), '{}');
    await writeFile(join(cacheDir, 'not-a-cache.txt'), 'x');
    const gone = [fileOf('/w/dead'), lockOf('/w/dead'), journalOf('/w/dead'), keyRowOf('/w/dead'), version2].sort();
    const expected = [...gone, join(store, LEGACY_STAT_CACHE_FILE)];
    const dry = await pruneStatCaches(store, ['live'], { dryRun: true, workspaceRoot: '/w' });
    expect(dry.removed).toEqual(expected);
    expect(dry.bytes).toBe(2 + 3 + 3 + 2 + 13 + 2);
    expect((await readdir(cacheDir)).length).toBe(10);
    const done = await pruneStatCaches(store, ['/w/live']);
    expect(done).toEqual(dry);
    expect((await readdir(cacheDir)).sort()).toEqual(
      [fileOf('/w/live'), journalOf('/w/live'), keyRowOf('/w/live'), lockOf('/w/live')].map(name).concat('not-a-cache.txt').sort(),
    );
    expect(await pruneStatCaches(join(dir, 'no-store'), [])).toEqual({ removed: [], bytes: 0 });
  });
});

describe('StatCache journal and compaction', () => {
  it('a save after one changed entry appends only that row, in one line; the base file is not touched', async () => {
    await seed(2000);
    expect(await readdir(cacheDir)).toEqual([name(fileOf())]);
    const base = await inodeSizeMtime(fileOf());
    const cache = await usingSeeded(2000);
    cache.store(`${asset}/f7`, { ...stamp, mtimeNs: '9' }, { sha256: B, size: 3 });
    await cache.save();
    expect(await inodeSizeMtime(fileOf())).toEqual(base);
    const text = await readFile(journalOf(), 'utf8');
    expect(text).toBe(`\ne\tf7\t1\t2\t3\t9\t5\t${B}\n`);
    const loaded = await StatCache.load(cacheDir, asset);
    expect(loaded.size).toBe(2000);
    expect(loaded.lookup(`${asset}/f7`, { ...stamp, mtimeNs: '9' })?.sha256).toBe(B);
  });

  it('a gone file is a delete and a seen row; the reloaded cache is what a full rewrite (compaction) gives', async () => {
    await seed(2000);
    const cache = await StatCache.load(cacheDir, asset);
    for (let i = 1; i < 2000; i++) cache.lookup(`${asset}/f${i}`, stamp);
    cache.hasSeen(`${asset}/f0`, A); // gone, but the lock pins it
    cache.markSeen(`${asset}/other`, B);
    await cache.save();
    expect((await journalRows()).map((row) => `${row.op} ${name(row.path)}`).sort()).toEqual(['delete f0', 'seen f0', 'seen other']);
    const appended = await onDisk();
    expect(await compactStatCache(fileOf(), asset, [])).toBeDefined();
    expect(await readdir(cacheDir)).toEqual([name(fileOf())]);
    expect(await onDisk()).toEqual(appended);
  });

  it('a torn last line (a crash mid-append) is skipped, and the next append is read whole', async () => {
    await seed(2000);
    const one = await usingSeeded(2000);
    one.store(`${asset}/new`, stamp, { sha256: B, size: 3 });
    await one.save();
    await appendFile(journalOf(), '["e","torn","1",');
    const two = await StatCache.load(cacheDir, asset);
    expect(two.size).toBe(2001);
    for (let i = 0; i < 2000; i++) two.lookup(`${asset}/f${i}`, stamp);
    two.lookup(`${asset}/new`, stamp);
    two.store(`${asset}/newer`, stamp, { sha256: B, size: 3 });
    await two.save();
    const three = await StatCache.load(cacheDir, asset);
    expect(three.size).toBe(2002);
    expect(three.lookup(`${asset}/newer`, stamp)?.sha256).toBe(B);
  });

  it('compacts once the journal passes max(1,000, base/8) rows: a new base, no journal', async () => {
    await seed(1001);
    const base = await inodeSizeMtime(fileOf());
    const first = await usingSeeded(1001);
    for (let i = 0; i < 600; i++) first.store(`${asset}/f${i}`, { ...stamp, mtimeNs: '9' }, { sha256: B, size: 3 });
    await first.save();
    expect(await journalRows()).toHaveLength(600);
    expect(await inodeSizeMtime(fileOf())).toEqual(base);
    const second = await StatCache.load(cacheDir, asset);
    for (let i = 0; i < 1001; i++) second.lookup(`${asset}/f${i}`, stamp);
    for (let i = 600; i < 1000; i++) second.store(`${asset}/f${i}`, { ...stamp, mtimeNs: '9' }, { sha256: B, size: 3 });
    await second.save(); // 600 + 400 rows: not past 1,000
    expect(await journalRows()).toHaveLength(1000);
    const third = await StatCache.load(cacheDir, asset);
    for (let i = 0; i < 1001; i++) third.lookup(`${asset}/f${i}`, stamp);
    third.store(`${asset}/f0`, { ...stamp, mtimeNs: '10' }, { sha256: A, size: 3 });
    await third.save(); // 1,001: compacted
    expect(await readdir(cacheDir)).toEqual([name(fileOf())]);
    expect((await inodeSizeMtime(fileOf()))[0]).not.toBe(base[0]);
    const loaded = await StatCache.load(cacheDir, asset);
    expect(loaded.lookup(`${asset}/f0`, { ...stamp, mtimeNs: '10' })?.sha256).toBe(A);
    expect(loaded.lookup(`${asset}/f999`, { ...stamp, mtimeNs: '9' })?.sha256).toBe(B);
  });

  it('two caches saving interleaved keep both changes, each only the paths it changed', async () => {
    await seed(2000);
    const one = await usingSeeded(2000);
    const two = await usingSeeded(2000);
    one.store(`${asset}/f1`, { ...stamp, mtimeNs: '9' }, { sha256: B, size: 3 });
    two.store(`${asset}/f2`, { ...stamp, mtimeNs: '9' }, { sha256: B, size: 3 });
    await one.save();
    await two.save();
    expect(await journalRows()).toHaveLength(2);
    const loaded = await StatCache.load(cacheDir, asset);
    expect(loaded.lookup(`${asset}/f1`, { ...stamp, mtimeNs: '9' })?.sha256).toBe(B);
    expect(loaded.lookup(`${asset}/f2`, { ...stamp, mtimeNs: '9' })?.sha256).toBe(B);
  });

  it('a compaction keeps what another process appended before it and after it moved the journal aside', async () => {
    await seed(2000);
    const other = await usingSeeded(2000);
    const compacting = await usingSeeded(2000);
    other.store(`${asset}/before`, stamp, { sha256: B, size: 3 });
    await other.save();
    for (let i = 0; i < 1500; i++) compacting.store(`${asset}/f${i}`, { ...stamp, mtimeNs: '9' }, { sha256: B, size: 3 });
    const saving = compacting.save(); // compacts: more rows than the limit
    const late = await usingSeeded(2000);
    late.lookup(`${asset}/before`, stamp);
    late.store(`${asset}/after`, stamp, { sha256: B, size: 3 });
    await Promise.all([saving, late.save()]);
    const loaded = await StatCache.load(cacheDir, asset);
    expect(loaded.lookup(`${asset}/before`, stamp)?.sha256).toBe(B);
    expect(loaded.lookup(`${asset}/after`, stamp)?.sha256).toBe(B);
    expect(loaded.lookup(`${asset}/f0`, { ...stamp, mtimeNs: '9' })?.sha256).toBe(B);
  });

  it('a compaction that cannot write the base puts the journal back and throws; nothing else is left', async () => {
    const cache = await StatCache.load(cacheDir, asset);
    cache.store(`${asset}/x`, stamp, { sha256: A, size: 3 });
    await cache.save();
    await mkdir(join(fileOf(), 'blocker'), { recursive: true }); // the base's path is a folder: the rename fails
    await expect(compactStatCache(fileOf(), asset, [])).rejects.toThrow();
    expect((await journalRows()).map((row) => row.path)).toEqual([`${asset}/x`]);
    expect((await readdir(cacheDir)).sort()).toEqual([name(fileOf()), name(journalOf())].sort());
  });

  it('appends instead while another process holds the compaction lock; a stale lock (a crash) is taken over', async () => {
    await seed(2000);
    const lock = fileOf().replace(/\.base$/, '.compacting');
    await writeFile(lock, '1\n');
    const cache = await usingSeeded(2000);
    for (let i = 0; i < 1500; i++) cache.store(`${asset}/f${i}`, { ...stamp, mtimeNs: '9' }, { sha256: B, size: 3 });
    await cache.save();
    expect(await journalRows()).toHaveLength(1500);
    const old = new Date(Date.now() - 120_000);
    await import('node:fs/promises').then((fs) => fs.utimes(lock, old, old));
    const next = await usingSeeded(0);
    for (let i = 0; i < 2000; i++) next.lookup(`${asset}/f${i}`, { ...stamp, mtimeNs: i < 1500 ? '9' : '4' });
    next.store(`${asset}/x`, stamp, { sha256: A, size: 3 });
    await next.save();
    expect(await readdir(cacheDir)).toEqual([name(fileOf())]);
    expect((await StatCache.load(cacheDir, asset)).size).toBe(2001);
  });

  it('the history stamp changes on every save (append and compaction) and not on a no-op', async () => {
    const stamps = [historyStampOfCache(fileOf())];
    expect(stamps[0]).toBeUndefined();
    const saveOne = async (path: string, mtimeNs = '4') => {
      const cache = await StatCache.load(cacheDir, asset);
      for (let i = 0; i < 2000; i++) cache.lookup(`${asset}/f${i}`, stamp);
      cache.store(path, { ...stamp, mtimeNs }, { sha256: A, size: 3 });
      await cache.save();
      stamps.push(historyStampOfCache(fileOf()));
    };
    await seed(2000); // a base
    stamps.push(historyStampOfCache(fileOf()));
    await saveOne(`${asset}/a`); // appends
    await saveOne(`${asset}/b`); // appends again
    const compacted = await StatCache.load(cacheDir, asset);
    for (let i = 0; i < 2000; i++) compacted.store(`${asset}/f${i}`, { ...stamp, mtimeNs: '9' }, { sha256: B, size: 3 });
    await compacted.save();
    stamps.push(historyStampOfCache(fileOf()));
    expect(stamps.at(-1)?.journal).toBeUndefined();
    const texts = stamps.map((s) => JSON.stringify(s));
    expect(new Set(texts).size).toBe(texts.length);
    const noop = await StatCache.load(cacheDir, asset);
    for (let i = 0; i < 2000; i++) noop.lookup(`${asset}/f${i}`, { ...stamp, mtimeNs: '9' });
    noop.lookup(`${asset}/a`, stamp);
    noop.lookup(`${asset}/b`, stamp);
    await noop.save();
    expect(JSON.stringify(historyStampOfCache(fileOf()))).toBe(texts.at(-1));
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
