import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { digestFrame, frameLayer, singleFileFrame } from './single-file-frame';
import { DuplicateTarPathError, InvalidTarPathError, normalizeTarEntries, parseSourceDateEpoch, type TarFileEntry } from './tar-entries';
import { encodeEntryHeader, paxRecord } from './tar-header';
import { TarEntrySizeMismatchError, tarLayout, tarSize, tarStream } from './tar-stream';

const work = mkdtempSync(join(tmpdir(), 'tar-spec-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function entry(path: string, content: Buffer | string, mode = 0o100644): TarFileEntry {
  const bytes = Buffer.from(content);
  return { path, mode, size: bytes.length, open: () => Readable.from([bytes]) };
}

async function collect(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

let counter = 0;
function writeTemp(bytes: Buffer): string {
  const file = join(work, `archive-${counter++}.tar`);
  writeFileSync(file, bytes);
  return file;
}

function gnuTarList(archive: string): string[] {
  return execFileSync('tar', ['--numeric-owner', '--full-time', '-tvf', archive], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } })
    .trim()
    .split('\n');
}

function gnuTarExtract(archive: string): string {
  const into = join(work, `x-${counter++}`);
  mkdirSync(into);
  execFileSync('tar', ['-xf', archive, '-C', into]);
  return into;
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('normalizeTarEntries', () => {
  it('adds each parent directory once, before its children, sorted byte-wise ("a" < "a-b" < "a/1")', () => {
    const records = normalizeTarEntries([
      entry('b/z.txt', 'z'),
      entry('a-b', 'x'),
      entry('b/c/d.bin', 'd'),
      entry('a/1', '1'),
      entry('b/c/e', 'e', 0o100755),
    ]);
    expect(records.map((r) => `${r.type[0]} ${r.path} ${r.mode.toString(8)}`)).toEqual([
      'd a 755',
      'f a-b 644',
      'f a/1 644',
      'd b 755',
      'd b/c 755',
      'f b/c/d.bin 644',
      'f b/c/e 755',
      'f b/z.txt 644',
    ]);
  });

  it.each([
    ['/abs', InvalidTarPathError],
    ['a//b', InvalidTarPathError],
    ['a/../b', InvalidTarPathError],
    ['./a', InvalidTarPathError],
    ['', InvalidTarPathError],
    ['a\\b', InvalidTarPathError],
  ])('rejects %j', (path, error) => {
    expect(() => normalizeTarEntries([entry(path, 'x')])).toThrow(error);
  });

  it('rejects duplicates and file/directory clashes', () => {
    expect(() => normalizeTarEntries([entry('a', '1'), entry('a', '2')])).toThrow(DuplicateTarPathError);
    expect(() => normalizeTarEntries([entry('a', '1'), entry('a/b', '2')])).toThrow(InvalidTarPathError);
  });
});

describe('parseSourceDateEpoch', () => {
  it.each([
    [undefined, 0],
    ['', 0],
    ['1700000000', 1700000000],
    [' 42 ', 42],
  ])('%j -> %d', (value, expected) => expect(parseSourceDateEpoch(value)).toBe(expected));
  it.each(['-1', '1.5', 'now'])('rejects %j', (value) => expect(() => parseSourceDateEpoch(value)).toThrow(/SOURCE_DATE_EPOCH/));
});

describe('paxRecord', () => {
  it.each([
    ['path', 'a', '9 path=a\n'],
    // 98 body bytes + 3 length digits = 101 (the length counts its own digits)
    ['path', 'x'.repeat(91), `101 path=${'x'.repeat(91)}\n`],
  ])('%s=%s', (key, value, expected) => {
    const record = paxRecord(key, value);
    expect(record).toBe(expected);
    expect(Buffer.byteLength(record)).toBe(Number(record.split(' ')[0]));
  });
});

describe('encodeEntryHeader', () => {
  it('writes ustar fields with a valid checksum, uid/gid 0 and empty user/group names', () => {
    const block = encodeEntryHeader({ path: 'data/model.bin', type: 'file', mode: 0o644, size: 1234, mtime: 1700000000 });
    expect(block.length).toBe(512);
    expect(block.toString('ascii', 0, 14)).toBe('data/model.bin');
    expect(block.toString('ascii', 100, 108)).toBe('0000644\0');
    expect(block.toString('ascii', 108, 124)).toBe('0000000\u00000000000\0');
    expect(parseInt(block.toString('ascii', 124, 135), 8)).toBe(1234);
    expect(parseInt(block.toString('ascii', 136, 147), 8)).toBe(1700000000);
    expect(block.toString('ascii', 257, 265)).toBe('ustar\u000000');
    expect(block.subarray(265, 329).every((b) => b === 0)).toBe(true);
    const copy = Buffer.from(block);
    copy.fill(0x20, 148, 156);
    const sum = copy.reduce((a, b) => a + b, 0);
    expect(parseInt(block.toString('ascii', 148, 154), 8)).toBe(sum);
  });

  it('records sizes over 8 GiB in a PAX size record', () => {
    const blocks = encodeEntryHeader({ path: 'big.bin', type: 'file', mode: 0o644, size: 9_000_000_000, mtime: 0 });
    expect(blocks.length).toBe(3 * 512);
    expect(blocks[156]).toBe('x'.charCodeAt(0));
    expect(blocks.toString('utf8', 512, 1024)).toContain(' size=9000000000\n');
  });
});

describe('tarStream and singleFileFrame', () => {
  const longDir = `${'deep/'.repeat(40)}nested`;
  const cases: [string, TarFileEntry, number][] = [
    ['short path', entry('models/bert/weights.bin', Buffer.alloc(1000, 7)), 0],
    ['exact block size', entry('a.bin', Buffer.alloc(1024, 1)), 1700000000],
    ['executable', entry('bin/run.sh', '#!/bin/sh\necho hi\n', 0o100775), 0],
    ['empty file', entry('empty', ''), 0],
    ['ustar prefix split (120 chars)', entry(`${'p'.repeat(60)}/${'q'.repeat(59)}`, 'split'), 0],
    ['PAX long name (>255 chars)', entry(`${longDir}/${'n'.repeat(120)}.txt`, 'long'), 0],
    ['non-ASCII name', entry('données/modèle-ß.txt', 'utf8'), 0],
  ];

  it.each(cases)('%s: prefix ‖ bytes ‖ suffix equals tarStream, and GNU tar reads both', async (_name, e, mtime) => {
    const content = await collect(e.open());
    const streamed = await collect(tarStream([e], { mtime }));
    const frame = singleFileFrame(e, { mtime });
    const framed = Buffer.concat([frame.prefix, content, frame.suffix]);
    expect(framed.equals(streamed)).toBe(true);
    expect(frame.size).toBe(framed.length);
    expect(tarSize([e], { mtime })).toBe(streamed.length);
    // The layout (headers encoded once): the same size and bytes, every time its chunks are asked for.
    const layout = tarLayout([e], { mtime });
    expect(layout.size).toBe(streamed.length);
    expect((await collect(layout.chunks())).equals(streamed)).toBe(true);
    expect((await collect(layout.chunks())).equals(streamed)).toBe(true);
    expect(streamed.length % 512).toBe(0);
    expect((await collect(frameLayer(frame, e.open)())).equals(streamed)).toBe(true);

    const digests = await digestFrame(frame, e.open());
    expect(digests.layerDigest).toBe(`sha256:${sha(streamed)}`);
    expect(digests.fileDigest).toBe(`sha256:${sha(content)}`);

    const archive = writeTemp(framed);
    const listing = gnuTarList(archive);
    const fileLine = listing[listing.length - 1]!;
    const expectedMode = (e.mode & 0o111) !== 0 ? '-rwxr-xr-x' : '-rw-r--r--';
    const when = new Date(mtime * 1000).toISOString().replace('T', ' ').slice(0, 19);
    expect(fileLine.replace(/ +/g, ' ')).toBe(`${expectedMode} 0/0 ${e.size} ${when} ${e.path}`);
    for (const line of listing.slice(0, -1)) expect(line).toMatch(/^drwxr-xr-x 0\/0 +0 /);
    const extracted = gnuTarExtract(archive);
    expect(sha(readFileSync(join(extracted, e.path)))).toBe(sha(content));
    expect(statSync(join(extracted, e.path)).mode & 0o777).toBe((e.mode & 0o111) !== 0 ? 0o755 : 0o644);
  });

  it('groups many files, reproducibly, in path order with parents once', async () => {
    const entries = [entry('cfg/b.json', '{"b":1}'), entry('cfg/a.json', '{"a":1}'), entry('vocab.txt', 'a\nb\n'), entry('cfg/sub/x', 'x')];
    const first = await collect(tarStream(entries, { mtime: 5 }));
    const second = await collect(tarStream([...entries].reverse(), { mtime: 5 }));
    expect(first.equals(second)).toBe(true);
    const archive = writeTemp(first);
    const names = gnuTarList(archive).map((line) => line.split(' ').pop());
    expect(names).toEqual(['cfg/', 'cfg/a.json', 'cfg/b.json', 'cfg/sub/', 'cfg/sub/x', 'vocab.txt']);
    const extracted = gnuTarExtract(archive);
    expect(readFileSync(join(extracted, 'cfg/sub/x'), 'utf8')).toBe('x');
    expect(readFileSync(join(extracted, 'vocab.txt'), 'utf8')).toBe('a\nb\n');
  });

  it('reads a small entry whole when it can: the same archive as streaming it, and a wrong size fails', async () => {
    const bytes = Buffer.from('hello corpus\n');
    const streamed: TarFileEntry = { path: 'a/f.txt', mode: 0o644, size: bytes.length, open: () => Readable.from([bytes]) };
    const whole: TarFileEntry = {
      ...streamed,
      open: () => {
        throw new Error('read() should be used');
      },
      read: async () => bytes,
    };
    expect((await collect(tarStream([whole]))).equals(await collect(tarStream([streamed])))).toBe(true);
    const changed: TarFileEntry = { ...whole, read: async () => Buffer.concat([bytes, bytes]) };
    await expect(collect(tarStream([changed]))).rejects.toMatchObject({ expected: bytes.length, actual: 2 * bytes.length });
  });

  it('fails when a source yields fewer or more bytes than declared', async () => {
    const short: TarFileEntry = { path: 'f', mode: 0o644, size: 10, open: () => Readable.from([Buffer.alloc(5)]) };
    await expect(collect(tarStream([short]))).rejects.toBeInstanceOf(TarEntrySizeMismatchError);
    const long: TarFileEntry = { path: 'f', mode: 0o644, size: 3, open: () => Readable.from([Buffer.alloc(5)]) };
    await expect(collect(frameLayer(singleFileFrame(long), long.open)())).rejects.toMatchObject({ expected: 3, actual: 5 });
  });
});
