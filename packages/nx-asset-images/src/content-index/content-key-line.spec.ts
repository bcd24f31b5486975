import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { hashCounters } from '../hashing/hasher';
import { StatCache } from '../hashing/stat-cache';
import { contentKeyLine, indexedContentKeyLine } from './content-key-line';
import { prepareAsset } from '../assembly/prepare-asset';
import { assetBuildOptions } from '../asset/build-options';
import { serializeAssetLock } from '../lock/lock';

const LINE = /^nx-asset-images@[^ ]+ content sha256:[0-9a-f]{64}$/;

describe('contentKeyLine: a failing key', () => {
  const root = mkdtempSync(join(tmpdir(), 'nxai-keyline-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('gives a failing key a new line on every run, with the digest of its message', async () => {
    const first = await contentKeyLine(root, 'assets/missing');
    const second = await contentKeyLine(root, 'assets/missing');
    expect(first).toMatch(/^error [0-9a-f-]{36} sha256:[0-9a-f]{64}$/);
    expect(second).not.toBe(first);
    // The same failure: the same message digest.
    expect(second.split(' ')[2]).toBe(first.split(' ')[2]);
    expect(await indexedContentKeyLine(root, 'assets/missing')).toBeUndefined();
  });
});

describe('contentKeyLine: the content index', () => {
  let ws: string;
  const asset = 'assets/m';
  const at = (rel: string) => join(ws, asset, rel);
  const write = (rel: string, data: string | Buffer) => {
    mkdirSync(dirname(at(rel)), { recursive: true });
    writeFileSync(at(rel), data);
  };
  const store = () => join(ws, '.asset-images');
  // No racy window: a file written a moment ago gets its row at once (the racy case below uses the real window).
  const key = () => contentKeyLine(ws, asset, undefined, 0n);
  /** The line from scratch: no index row, no stat cache. */
  const fresh = async () => {
    rmSync(store(), { recursive: true, force: true });
    return key();
  };
  const sha = (data: string) => createHash('sha256').update(data).digest('hex');

  beforeEach(() => {
    ws = mkdtempSync(join(tmpdir(), 'nxai-keyindex-'));
    write('asset.json', JSON.stringify({ name: 'm', image: 'localhost:5000/m', tags: ['1'] }));
    write('vocab.txt', 'a\nb\n');
    write('sub/weights.bin', 'w'.repeat(1000));
  });
  afterAll(() => rmSync(ws, { recursive: true, force: true }));

  it('an unchanged asset is answered from its row: nothing read, the stat cache not rewritten', async () => {
    const first = await key();
    expect(first).toMatch(LINE);
    const rows = join(store(), 'stat-cache');
    const cacheFile = join(
      rows,
      readdirSync(rows).find((name) => /\.(base|journal)$/.test(name))!,
    );
    const before = statSync(cacheFile, { bigint: true });
    const opened = hashCounters.filesOpened;
    expect(await indexedContentKeyLine(ws, asset)).toBe(first);
    expect(await key()).toBe(first);
    expect(hashCounters.filesOpened).toBe(opened);
    const after = statSync(cacheFile, { bigint: true });
    expect([after.ino, after.mtimeNs]).toEqual([before.ino, before.mtimeNs]);
  });

  it('a deleted or rewritten stat cache (what this workspace has seen) makes the row not answer', async () => {
    const first = await key();
    const rows = join(store(), 'stat-cache');
    rmSync(
      join(
        rows,
        readdirSync(rows).find((name) => /\.(base|journal)$/.test(name))!,
      ),
    );
    expect(await indexedContentKeyLine(ws, asset)).toBeUndefined();
    expect(await key()).toBe(first);
    expect(await indexedContentKeyLine(ws, asset)).toBe(first);
  });

  it('a save appended to the stat cache journal (the base untouched) makes the row not answer', async () => {
    const first = await key();
    expect(await indexedContentKeyLine(ws, asset)).toBe(first);
    const rows = join(store(), 'stat-cache');
    const cache = await StatCache.load(rows, join(ws, asset));
    cache.markSeen(at('once-here.bin'), 'c'.repeat(64));
    await cache.save();
    expect(readdirSync(rows).some((name) => name.endsWith('.journal'))).toBe(true);
    expect(await indexedContentKeyLine(ws, asset)).toBeUndefined();
  });

  type Change = [name: string, change: () => void, contentChanges: boolean];
  it.each<Change>([
    [
      'a same-size edit with the old mtime put back',
      () => {
        const { atime, mtime } = statSync(at('vocab.txt'));
        write('vocab.txt', 'a\nc\n');
        utimesSync(at('vocab.txt'), atime, mtime);
      },
      true,
    ],
    ['a new file', () => write('sub/new.txt', 'n'), true],
    ['a new file in a new folder', () => write('deep/er/new.txt', 'n'), true],
    ['a deleted file', () => rmSync(at('vocab.txt')), true],
    ['a renamed file', () => renameSync(at('vocab.txt'), at('vocab2.txt')), true],
    ['a mode change', () => chmodSync(at('vocab.txt'), 0o755), true],
    [
      'another destination in asset.json',
      () => write('asset.json', JSON.stringify({ name: 'm', image: 'localhost:5000/m', destination: '/x' })),
      true,
    ],
    [
      'a Git LFS pointer to other content in place of the file',
      () => write('sub/weights.bin', `version https://git-lfs.github.com/spec/v1\noid sha256:${sha('x'.repeat(1000))}\nsize 1000\n`),
      true,
    ],
    [
      'a Git LFS pointer to the same content in place of the file (same content, same key)',
      () => write('sub/weights.bin', `version https://git-lfs.github.com/spec/v1\noid sha256:${sha('w'.repeat(1000))}\nsize 1000\n`),
      false,
    ],
    ['a file rewritten with the same bytes (same content, same key)', () => write('vocab.txt', 'a\nb\n'), false],
  ])('%s: the row no longer answers; the line is the one from scratch', async (_, change, contentChanges) => {
    const before = await key();
    change();
    expect(await indexedContentKeyLine(ws, asset)).toBeUndefined();
    const after = await key();
    expect(after).toMatch(LINE);
    if (contentChanges) expect(after).not.toBe(before);
    else expect(after).toBe(before);
    expect(await fresh()).toBe(after);
    // And the new row answers the next run.
    expect(await indexedContentKeyLine(ws, asset)).toBe(after);
  });

  it('racy: a file written within the window gets no row, so a same-size edit in the same instant is seen', async () => {
    write('vocab.txt', 'a\nb\n');
    const first = await contentKeyLine(ws, asset); // the real 2 s window: vocab.txt was written just now
    expect(await indexedContentKeyLine(ws, asset)).toBeUndefined();
    const { atime, mtime } = statSync(at('vocab.txt'));
    write('vocab.txt', 'a\nc\n');
    utimesSync(at('vocab.txt'), atime, mtime);
    const second = await contentKeyLine(ws, asset);
    expect(second).not.toBe(first);
    expect(await fresh()).toBe(second);
  });

  it('a pinned file this workspace never had, then had (pulled) and deleted again: the same scan, but removed, not absent', async () => {
    // The lock pins sub/weights.bin; a store that never saw it.
    const analysis = await prepareAsset(assetBuildOptions(ws), `${asset}/asset.json`, { sources: 'skip' });
    writeFileSync(at('asset.lock.json'), serializeAssetLock(analysis.lock));
    const weight = readFileSync(at('sub/weights.bin'));
    rmSync(store(), { recursive: true, force: true });
    rmSync(at('sub/weights.bin'));
    const absent = await key(); // absent: in the key with the lock's values
    expect(await indexedContentKeyLine(ws, asset)).toBe(absent);
    // It comes back (as asset-pull writes it) and is hashed, within the racy window: the stat cache now has seen it, no new row.
    writeFileSync(at('sub/weights.bin'), weight);
    expect(await contentKeyLine(ws, asset)).toBe(absent); // the same content
    rmSync(at('sub/weights.bin'));
    // The scan is the absent state's again, but this workspace had the file: it was removed, and the key says so.
    expect(await indexedContentKeyLine(ws, asset)).toBeUndefined();
    const removed = await key();
    expect(removed).not.toBe(absent);
    rmSync(
      join(
        store(),
        'stat-cache',
        readdirSync(join(store(), 'stat-cache')).find((name) => name.endsWith('.key.json'))!,
      ),
    );
    expect(await key()).toBe(removed);
  });

  it('a row of another asset folder, or a corrupt one, is not used', async () => {
    const first = await key();
    const rows = join(store(), 'stat-cache');
    const rowFile = readdirSync(rows).find((name) => name.endsWith('.key.json'))!;
    const row = JSON.parse(readFileSync(join(rows, rowFile), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(rows, rowFile), JSON.stringify({ ...row, root: '/elsewhere' }));
    expect(await indexedContentKeyLine(ws, asset)).toBeUndefined();
    writeFileSync(join(rows, rowFile), '{"version":1,');
    expect(await indexedContentKeyLine(ws, asset)).toBeUndefined();
    expect(await key()).toBe(first);
    expect(existsSync(join(rows, rowFile))).toBe(true);
    expect(await indexedContentKeyLine(ws, asset)).toBe(first);
  });
});
