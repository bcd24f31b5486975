import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AssetLockError } from '../errors/asset-errors';
import { lockFromHashes, serializeAssetLock, type AssetLock, type AssetLockImage } from './lock';
import { reconcileAssetLock } from './lock-check';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;

const image = (manifest = D1): AssetLockImage => ({
  manifest,
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  mtime: 0,
  compression: 'none',
  destination: '/',
  layers: [{ digest: D2, diffID: D2, size: 4096, mediaType: 'application/vnd.oci.image.layer.v1.tar', files: ['model.bin'] }],
});
const files = (sha256 = A) => [{ relPath: 'model.bin', size: 3000, sha256, mode: 0o644 }];
const V1_TEXT = `${JSON.stringify({ lockfileVersion: 1, files: { 'model.bin': { size: 3000, sha256: A } } }, null, 2)}\n`;

describe('reconcileAssetLock', () => {
  let root: string;
  const PROJECT = 'assets/bert';
  const lockPath = () => join(root, PROJECT, 'asset.lock.json');
  const onDisk = () => readFile(lockPath(), 'utf8').catch(() => undefined);
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'nxai-lock-check-'));
    await mkdir(join(root, PROJECT), { recursive: true });
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  type Case = {
    name: string;
    /** The committed lock's text; undefined: none. */
    existing: string | undefined;
    actual: AssetLock;
    frozen: boolean;
    filesOnly?: boolean;
    /** 'unchanged', 'written' or an error pattern. */
    expected: 'unchanged' | 'written' | RegExp;
    /** The lock file after; default: as before (or the actual's text when written). */
    after?: string | undefined;
  };
  const current = serializeAssetLock(lockFromHashes(files(), image()));
  const cases: Case[] = [
    { name: 'the same v2 lock and pin', existing: current, actual: lockFromHashes(files(), image()), frozen: false, expected: 'unchanged' },
    {
      name: 'the same v2 lock and pin, CI',
      existing: current,
      actual: lockFromHashes(files(), image()),
      frozen: true,
      expected: 'unchanged',
    },
    { name: 'no lock yet', existing: undefined, actual: lockFromHashes(files(), image()), frozen: false, expected: 'written' },
    { name: 'no lock and no files', existing: undefined, actual: lockFromHashes([]), frozen: true, expected: 'unchanged' },
    {
      name: 'no lock, CI',
      existing: undefined,
      actual: lockFromHashes(files(), image()),
      frozen: true,
      expected: /assets\/bert\/asset\.lock\.json: .*the lock file is missing/s,
    },
    { name: 'a changed file', existing: current, actual: lockFromHashes(files(B), image(D2)), frozen: false, expected: 'written' },
    {
      name: 'a changed file, CI',
      existing: current,
      actual: lockFromHashes(files(B), image(D2)),
      frozen: true,
      expected: /~ model\.bin \(lock: 3000 bytes sha256 aaaaaaaaaaaa mode 0644, file: 3000 bytes sha256 bbbbbbbbbbbb mode 0644\)/,
    },
    {
      name: 'a changed file, CI, files only',
      existing: current,
      actual: lockFromHashes(files(B)),
      frozen: true,
      filesOnly: true,
      expected: /model\.bin/,
    },
    {
      name: 'a changed file, files only (dev)',
      existing: current,
      actual: lockFromHashes(files(B)),
      frozen: false,
      filesOnly: true,
      expected: 'unchanged',
    },
    {
      name: 'matching files, files only, CI',
      existing: current,
      actual: lockFromHashes(files()),
      frozen: true,
      filesOnly: true,
      expected: 'unchanged',
    },
    {
      name: 'a v1 lock with matching files, CI: left as it is',
      existing: V1_TEXT,
      actual: lockFromHashes(files(), image()),
      frozen: true,
      expected: 'unchanged',
    },
    {
      name: 'a v1 lock with matching files (dev): upgraded',
      existing: V1_TEXT,
      actual: lockFromHashes(files(), image()),
      frozen: false,
      expected: 'written',
    },
    {
      name: 'a v1 lock, files only (dev): not yet',
      existing: V1_TEXT,
      actual: lockFromHashes(files()),
      frozen: false,
      filesOnly: true,
      expected: 'unchanged',
    },
    {
      name: 'another image pin, CI: left as it is',
      existing: current,
      actual: lockFromHashes(files(), image(D2)),
      frozen: true,
      expected: 'unchanged',
    },
    {
      name: 'another image pin (dev): rewritten',
      existing: current,
      actual: lockFromHashes(files(), image(D2)),
      frozen: false,
      expected: 'written',
    },
    {
      name: 'a v2 lock without a pin (dev): the pin is added',
      existing: serializeAssetLock(lockFromHashes(files())),
      actual: lockFromHashes(files(), image()),
      frozen: false,
      expected: 'written',
    },
    {
      name: 'a removed file, CI',
      existing: current,
      actual: lockFromHashes([]),
      frozen: true,
      expected: /- model\.bin \(in the lock, no longer a file\)/,
    },
  ];

  it.each(cases)('$name', async ({ existing, actual, frozen, filesOnly, expected, after }) => {
    if (existing !== undefined) await writeFile(lockPath(), existing);
    const run = reconcileAssetLock(root, PROJECT, actual, frozen, { filesOnly });
    if (expected instanceof RegExp) {
      const error = await run.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AssetLockError);
      expect((error as Error).message).toMatch(expected);
      expect(await onDisk()).toBe(existing);
      return;
    }
    expect(await run).toBe(expected);
    const want = after ?? (expected === 'written' ? serializeAssetLock(actual) : existing);
    expect(await onDisk()).toBe(want);
  });

  it('a v1 lock upgraded in dev becomes version 2 with modes and the pin', async () => {
    await writeFile(lockPath(), V1_TEXT);
    await reconcileAssetLock(root, PROJECT, lockFromHashes(files(), image()), false);
    const written = JSON.parse((await onDisk())!) as Record<string, unknown>;
    expect(written).toEqual({ lockfileVersion: 2, files: { 'model.bin': { size: 3000, sha256: A, mode: 0o644 } }, image: image() });
  });
});
