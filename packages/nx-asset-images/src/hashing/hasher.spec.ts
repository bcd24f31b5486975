import { describe, it, expect, beforeAll, afterAll, beforeEach, afterEach } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import { AssetHashError } from '../errors/asset-errors';
import { hashCounters, hashFiles } from './hasher';
import { HashPool } from './hash-worker-pool';
import { StatCache, frameKey } from './stat-cache';

const sha = (...parts: Buffer[]) => {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest('hex');
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let dir: string;
let workerFile: string;

beforeAll(async () => {
  // vitest runs the .ts sources; the worker entry must be JavaScript: transpile hash-worker.ts (Node built-ins only) like tsc would.
  const workerDir = await mkdtemp(join(tmpdir(), 'hash-worker-js-'));
  const source = readFileSync(join(__dirname, 'hash-worker.ts'), 'utf8');
  const output = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
  });
  workerFile = join(workerDir, 'hash-worker.js');
  await writeFile(workerFile, output.outputText);
});
afterAll(async () => {
  await rm(join(workerFile, '..'), { recursive: true, force: true });
});
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'asset-hasher-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function put(name: string, bytes: Buffer): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, bytes);
  return path;
}

const PREFIX = Buffer.concat([Buffer.from('tar header '), randomBytes(501)]);
const SUFFIX = Buffer.alloc(1024 + 7, 0);

describe.each([
  ['in-thread', () => new HashPool({ workerFile: false, bufferSize: 1000, size: 2 })],
  ['worker threads', () => new HashPool({ workerFile, bufferSize: 1000, size: 2 })],
])('hashFiles (%s)', (_mode, makePool) => {
  let pool: HashPool;
  beforeEach(() => {
    pool = makePool();
  });
  afterEach(async () => {
    await pool.close();
  });

  it('matches crypto on known bytes, across buffer boundaries, with and without a frame', async () => {
    const contents = [Buffer.alloc(0), Buffer.from('a'), randomBytes(1000), randomBytes(2999), randomBytes(40_000)];
    const files = await Promise.all(
      contents.map(async (bytes, i) => ({
        absPath: await put(`f${i}`, bytes),
        size: bytes.length,
        ...(i % 2 === 0 ? { frame: { prefix: PREFIX, suffix: SUFFIX } } : {}),
      })),
    );
    const results = await hashFiles(files, { pool });
    results.forEach((result, i) => {
      expect(result.absPath).toBe(files[i].absPath);
      expect(result.sha256).toBe(sha(contents[i]));
      expect(result.size).toBe(contents[i].length);
      expect(result.fromCache).toBe(false);
      expect(result.layerDigest).toBe(i % 2 === 0 ? `sha256:${sha(PREFIX, contents[i], SUFFIX)}` : undefined);
    });
    expect(sha(Buffer.from('abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('splits the content and framed hash of a big file over two threads with the same result', async () => {
    const bytes = randomBytes(50_000);
    const absPath = await put('big', bytes);
    const [result] = await hashFiles([{ absPath, size: bytes.length, frame: { prefix: PREFIX, suffix: SUFFIX } }], {
      pool,
      splitThreshold: 0,
    });
    expect(result.sha256).toBe(sha(bytes));
    expect(result.layerDigest).toBe(`sha256:${sha(PREFIX, bytes, SUFFIX)}`);
  });
});

describe('HashPool shared reads (worker threads)', () => {
  it('mixes shared-read pairs and single jobs on a small pool', async () => {
    const pool = new HashPool({ workerFile, bufferSize: 512, size: 2 });
    try {
      expect(pool.canShareReads).toBe(true);
      const contents = Array.from({ length: 6 }, (_, i) => randomBytes(3000 + i * 1111));
      const files = await Promise.all(
        contents.map(async (bytes, i) => ({
          absPath: await put(`m${i}`, bytes),
          size: bytes.length,
          ...(i < 4 ? { frame: { prefix: PREFIX, suffix: SUFFIX } } : {}),
        })),
      );
      const results = await hashFiles(files, { pool, splitThreshold: 4000 });
      results.forEach((result, i) => {
        expect(result.sha256).toBe(sha(contents[i]));
        expect(result.layerDigest).toBe(i < 4 ? `sha256:${sha(PREFIX, contents[i], SUFFIX)}` : undefined);
      });
    } finally {
      await pool.close();
    }
  });

  it('fails both halves of a pair when the file cannot be read, and the pool keeps working', async () => {
    const pool = new HashPool({ workerFile, bufferSize: 512, size: 2 });
    try {
      await expect(pool.runSharedRead(join(dir, 'missing'), PREFIX, SUFFIX)).rejects.toThrow(/ENOENT/);
      const bytes = randomBytes(2000);
      const result = await pool.runSharedRead(await put('ok', bytes), PREFIX, SUFFIX);
      expect(result).toEqual({ size: 2000, sha256: sha(bytes), framedSha256: sha(PREFIX, bytes, SUFFIX) });
    } finally {
      await pool.close();
    }
  });

  it('falls back to one thread doing both hashes when it cannot share', async () => {
    const pool = new HashPool({ workerFile: false, size: 2 });
    expect(pool.canShareReads).toBe(false);
    const bytes = randomBytes(100);
    expect(await pool.runSharedRead(await put('x', bytes), PREFIX, SUFFIX)).toEqual({
      size: 100,
      sha256: sha(bytes),
      framedSha256: sha(PREFIX, bytes, SUFFIX),
    });
    await pool.close();
  });
});

describe('hashFiles with a stat cache', () => {
  it('never opens a file whose stat matches', async () => {
    const bytes = randomBytes(5000);
    const absPath = await put('w.bin', bytes);
    const cache = StatCache.inMemory();
    const first = await hashFiles([{ absPath, size: 5000 }], { cache, racyWindowMs: 0, workerFile: false });
    expect(first[0]).toMatchObject({ sha256: sha(bytes), fromCache: false });
    const opened = hashCounters.filesOpened;
    const read = hashCounters.bytesRead;
    const second = await hashFiles([{ absPath, size: 5000 }], { cache, racyWindowMs: 0, workerFile: false });
    expect(second[0]).toEqual({ absPath, sha256: sha(bytes), size: 5000, fromCache: true });
    expect(hashCounters.filesOpened).toBe(opened);
    expect(hashCounters.bytesRead).toBe(read);
  });

  it('detects a same-size rewrite whose mtime was restored (ctime changed)', async () => {
    const bytes = randomBytes(4096);
    const absPath = await put('w.bin', bytes);
    const fixed = 1_700_000_000; // whole seconds: utimes can restore it exactly
    await utimes(absPath, fixed, fixed);
    const cache = StatCache.inMemory();
    await hashFiles([{ absPath, size: 4096 }], { cache, racyWindowMs: 0, workerFile: false });
    expect(cache.size).toBe(1);
    const before = await stat(absPath, { bigint: true });
    await sleep(30); // past the file system's timestamp granularity
    const changed = Buffer.from(bytes);
    changed[100] ^= 0xff;
    await writeFile(absPath, changed);
    await utimes(absPath, fixed, fixed);
    const after = await stat(absPath, { bigint: true });
    expect(after.mtimeNs).toBe(before.mtimeNs);
    expect(after.size).toBe(before.size);
    expect(after.ino).toBe(before.ino);
    expect(after.ctimeNs).not.toBe(before.ctimeNs);
    const [result] = await hashFiles([{ absPath, size: 4096 }], { cache, racyWindowMs: 0, workerFile: false });
    expect(result.fromCache).toBe(false);
    expect(result.sha256).toBe(sha(changed));
  });

  it('does not cache a file modified within the racy window', async () => {
    const absPath = await put('fresh.bin', randomBytes(100));
    const cache = StatCache.inMemory();
    await hashFiles([{ absPath, size: 100 }], { cache, workerFile: false });
    expect(cache.size).toBe(0);
    const old = new Date(Date.now() - 60_000);
    await utimes(absPath, old, old); // ctime is still now: still racy
    await hashFiles([{ absPath, size: 100 }], { cache, workerFile: false });
    expect(cache.size).toBe(0);
  });

  it('caches layer digests per frame and reads only for a frame it has not seen', async () => {
    const bytes = randomBytes(3000);
    const absPath = await put('w.bin', bytes);
    const cache = StatCache.inMemory();
    const framed = { absPath, size: 3000, frame: { prefix: PREFIX, suffix: SUFFIX } };
    await hashFiles([framed], { cache, racyWindowMs: 0, workerFile: false });
    const [hit] = await hashFiles([framed], { cache, racyWindowMs: 0, workerFile: false });
    expect(hit).toMatchObject({ fromCache: true, layerDigest: `sha256:${sha(PREFIX, bytes, SUFFIX)}` });
    const otherPrefix = Buffer.from(PREFIX);
    otherPrefix[0] ^= 1;
    const read = hashCounters.bytesRead;
    const [miss] = await hashFiles([{ absPath, size: 3000, frame: { prefix: otherPrefix, suffix: SUFFIX } }], {
      cache,
      racyWindowMs: 0,
      workerFile: false,
    });
    expect(miss).toMatchObject({ fromCache: false, sha256: sha(bytes), layerDigest: `sha256:${sha(otherPrefix, bytes, SUFFIX)}` });
    expect(hashCounters.bytesRead - read).toBe(3000);
    // both frames are now remembered
    const [again] = await hashFiles([framed], { cache, racyWindowMs: 0, workerFile: false });
    expect(again.fromCache).toBe(true);
  });

  it('takes a frame per input, so two inputs of the same file get their own layer digests', async () => {
    const bytes = randomBytes(700);
    const absPath = await put('shared.bin', bytes);
    const otherPrefix = Buffer.alloc(512, 7);
    const [a, b] = await hashFiles(
      [
        { absPath, size: 700, frame: { prefix: PREFIX, suffix: SUFFIX } },
        { absPath, size: 700, frame: { prefix: otherPrefix, suffix: SUFFIX } },
      ],
      { workerFile: false },
    );
    expect(a.layerDigest).toBe(`sha256:${sha(PREFIX, bytes, SUFFIX)}`);
    expect(b.layerDigest).toBe(`sha256:${sha(otherPrefix, bytes, SUFFIX)}`);
  });

  it('refuses a frame made for another size than the file has now', async () => {
    const absPath = await put('grown.bin', randomBytes(200));
    await expect(hashFiles([{ absPath, size: 100, frame: { prefix: PREFIX, suffix: SUFFIX } }], { workerFile: false })).rejects.toThrow(
      /changed size since it was listed \(100 bytes, now 200\)/,
    );
  });

  it('reports progress and fails clearly on a missing file', async () => {
    const absPath = await put('p.bin', randomBytes(2000));
    const events: { label: string; bytes: number; total?: number }[] = [];
    await hashFiles([{ absPath, size: 2000, relPath: 'p.bin' }], { onProgress: (e) => events.push(e), workerFile: false });
    expect(events.at(-1)).toEqual({ label: 'p.bin', bytes: 2000, total: 2000 });
    const missing = join(dir, 'missing.bin');
    await expect(hashFiles([{ absPath: missing, size: 1 }], { workerFile: false })).rejects.toThrow(AssetHashError);
    await expect(hashFiles([{ absPath: missing, size: 1 }], { workerFile: false })).rejects.toThrow(
      new RegExp(`^${missing}: cannot be read`),
    );
  });
});

describe('StatCache', () => {
  // Persistence: stat-cache.spec.ts.
  it('frameKey tells prefix/suffix boundaries apart', () => {
    expect(frameKey(Buffer.from('ab'), Buffer.from('c'))).not.toBe(frameKey(Buffer.from('a'), Buffer.from('bc')));
    expect(frameKey(Buffer.from('ab'), Buffer.from('c'))).toBe(frameKey(Buffer.from('ab'), Buffer.from('c')));
  });
});
