/**
 * Files the lock pins that a clone lacks (missing, or a Git LFS pointer in
 * their place): the analysis takes them from the lock, so the content key and
 * the image's manifest digest are the ones of a clone with the bytes, and
 * nothing is read; a file this workspace had and deleted, or that asset.json
 * no longer selects, is removed instead.
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AssetAbsentFilesError, AssetFilesError, AssetLockError } from '../errors/asset-errors';
import { hashCounters } from '../hashing/hasher';
import { parseAssetLock, serializeAssetLock, type AssetLock } from '../lock/lock';
import { digestReadable } from '../oci/digest';
import { buildAsset } from './asset-build';
import { readAssetImageResult } from '../asset/asset-image-result';
import { assembleAssetImage, buildAssetImage, layerDigestsOf } from '../assembly/build-asset-image';
import { assetBuildOptions } from '../asset/build-options';
import { contentKey } from '../asset/content-key';
import { prepareAsset } from '../assembly/prepare-asset';

const MANIFEST = 'assets/x/asset.json';
const OUT = 'dist/asset-images/x';
const MODEL = Buffer.alloc(3000, 7);
const MODEL_SHA = createHash('sha256').update(MODEL).digest('hex');
const pointer = (sha256: string, size: number) => `version https://git-lfs.github.com/spec/v1\noid sha256:${sha256}\nsize ${size}\n`;

describe('absent files', () => {
  let root: string;
  const at = (rel: string) => join(root, 'assets/x', rel);
  const options = (env: NodeJS.ProcessEnv = {}) => assetBuildOptions(root, { largeFileThreshold: 1000 }, env);
  const prepare = () => prepareAsset(options(), MANIFEST, { sources: 'skip' });
  const build = (env: NodeJS.ProcessEnv = {}, ociLayout = false) =>
    buildAsset(options(env), { manifestFile: MANIFEST, outputPath: OUT, load: false, ociLayout });
  const readLock = async () => parseAssetLock(await readFile(at('asset.lock.json'), 'utf8'), 'lock');
  const writeLock = (lock: AssetLock) => writeFile(at('asset.lock.json'), serializeAssetLock(lock));
  /** A fresh clone: no store (stat cache, layout, layer digests), the given files not in the folder. */
  const freshClone = async (...missing: string[]) => {
    await rm(join(root, '.asset-images'), { recursive: true, force: true });
    for (const file of missing) await rm(at(file));
  };
  const manifest = (fields: Record<string, unknown> = {}) =>
    writeFile(
      join(root, MANIFEST),
      JSON.stringify({
        name: 'x',
        image: 'localhost:5000/asset/x',
        tags: ['0.1'],
        files: ['*.bin', '*.txt'],
        compression: 'gzip',
        ...fields,
      }),
    );

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'nxai-absent-'));
    await mkdir(join(root, 'assets/x'), { recursive: true });
    await manifest();
    await writeFile(at('model.bin'), MODEL, { mode: 0o755 });
    await writeFile(at('small.bin'), Buffer.alloc(10, 1));
    await writeFile(at('config.txt'), 'hidden=4\n');
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('a build writes a version 2 lock with modes and the image pin', async () => {
    const { image, result } = await build();
    const lock = await readLock();
    expect(lock.lockfileVersion).toBe(2);
    // The default builds linux/amd64 and linux/arm64: the pin is the index's digest, the layers are shared.
    expect(result.platforms?.map((p) => p.platform)).toEqual(['linux/amd64', 'linux/arm64']);
    expect(lock.files['model.bin']).toEqual({ size: 3000, sha256: MODEL_SHA, mode: 0o755 });
    expect(lock.files['config.txt']!.mode).toBe(0o644);
    expect(lock.image).toMatchObject({ manifest: result.manifestDigest, mtime: 0, compression: 'gzip', destination: '/' });
    expect(lock.image!.layers.map((l) => l.files)).toEqual([['model.bin'], ['config.txt', 'small.bin']]);
    expect(lock.image!.layers.map((l) => l.digest)).toEqual(image.layers.map((l) => l.descriptor.digest));
    expect(lock.image!.layers.map((l) => l.diffID)).toEqual(image.layers.map((l) => l.diffId));
  });

  it('a missing pinned file takes the lock values: same content key, never read', async () => {
    await build();
    const present = await prepare();
    await freshClone('model.bin');
    const absent = await prepare();
    expect(absent.absent.map((f) => [f.relPath, f.absent])).toEqual([['model.bin', 'missing']]);
    expect(absent.removed).toEqual([]);
    const file = absent.layers.flatMap((l) => l.files).find((f) => f.relPath === 'model.bin')!;
    expect(file).toMatchObject({ size: 3000, sha256: MODEL_SHA, mode: 0o755 });
    expect(contentKey(absent)).toBe(contentKey(present));
    expect(absent.lock).toEqual(present.lock);
    expect(absent.committedLock?.lockfileVersion).toBe(2);
  });

  it('a Git LFS pointer in place of a pinned file is absent: same content key', async () => {
    await build();
    const present = await prepare();
    await freshClone();
    await writeFile(at('model.bin'), pointer(MODEL_SHA, 3000));
    const analysis = await prepare();
    expect(analysis.absent.map((f) => [f.relPath, f.absent])).toEqual([['model.bin', 'lfs-pointer']]);
    expect(contentKey(analysis)).toBe(contentKey(present));
    expect(analysis.lock).toEqual(present.lock);
  });

  it.each([
    [
      'another oid',
      pointer('e'.repeat(64), 3000),
      /"model\.bin" is a Git LFS pointer to sha256 e{64} \(3000 bytes\), but assets\/x\/asset\.lock\.json pins/,
    ],
    ['another size', pointer(MODEL_SHA, 2999), /"model\.bin" is a Git LFS pointer .*\(2999 bytes\)/],
    [
      'a malformed pointer',
      `version https://git-lfs.github.com/spec/v1\noid md5:abc\nsize 3000\n`,
      /"model\.bin" starts like a Git LFS pointer but is not a valid one/,
    ],
  ])('a pointer with %s is an error naming the file', async (_label, text, message) => {
    await build();
    await freshClone();
    await writeFile(at('model.bin'), text);
    const error = await prepare().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AssetFilesError);
    expect((error as AssetFilesError).path).toBe('model.bin');
    expect((error as Error).message).toMatch(/^assets\/x\/asset\.json: /);
    expect((error as Error).message).toMatch(message);
  });

  it('a file this workspace had (its stat cache saw it) and deleted is removed: it drops out of the lock', async () => {
    await build();
    await rm(at('model.bin'));
    const analysis = await prepare();
    expect(analysis.absent).toEqual([]);
    expect(analysis.removed).toEqual(['model.bin']);
    expect(Object.keys(analysis.lock.files)).toEqual(['config.txt', 'small.bin']);
    // In CI that is a lock that does not match; otherwise the lock is rewritten without it.
    await expect(build({ CI: 'true' })).rejects.toThrow(AssetLockError);
    await expect(build({ CI: 'true' })).rejects.toThrow(/- model\.bin \(in the lock, no longer a file\)/);
    await build();
    expect(Object.keys((await readLock()).files)).toEqual(['config.txt', 'small.bin']);
  });

  it('a pinned file that "exclude" now leaves out is removed, also on a clone that never had it', async () => {
    await build();
    await freshClone('model.bin');
    await manifest({ exclude: ['model.bin'] });
    const analysis = await prepare();
    expect(analysis.removed).toEqual(['model.bin']);
    expect(analysis.absent).toEqual([]);
    expect(Object.keys(analysis.lock.files)).toEqual(['config.txt', 'small.bin']);
  });

  it('a pinned file that "files" no longer selects is removed', async () => {
    await build();
    await freshClone('model.bin');
    await manifest({ files: ['small.bin', '*.txt'] });
    expect((await prepare()).removed).toEqual(['model.bin']);
  });

  it('a "files" glob that matches only an absent pinned file is not an error; one that matches nothing is', async () => {
    await manifest({ files: ['model.bin', 'small.bin', '*.txt'] });
    await build();
    await freshClone('model.bin');
    const analysis = await prepare();
    expect(analysis.absent.map((f) => f.relPath)).toEqual(['model.bin']);
    await manifest({ files: ['model.bin', 'small.bin', '*.txt', 'nothing-*.bin'] });
    await expect(prepare()).rejects.toThrow(/field "files\[3\]": "nothing-\*\.bin" matches no file/);
  });

  it('buildAssetImage without the bytes: the same manifest digest, no file opened, pinned layers need their bytes from elsewhere', async () => {
    const { image: withBytes } = await build();
    await freshClone('model.bin', 'small.bin', 'config.txt');
    const opened = hashCounters.filesOpened;
    const analysis = await prepare();
    expect(analysis.absent.map((f) => f.relPath)).toEqual(['config.txt', 'model.bin', 'small.bin']);
    expect(analysis.layers.every((l) => l.pinned !== undefined)).toBe(true);
    // Compression gzip and no layer digest cache: any byte needed would have to be read (and the files are not there).
    const image = await buildAssetImage(analysis, { mtime: 0 });
    expect(hashCounters.filesOpened).toBe(opened);
    expect(image.manifest.descriptor.digest).toBe(withBytes.manifest.descriptor.digest);
    expect(image.layers.map((l) => l.descriptor)).toEqual(withBytes.layers.map((l) => l.descriptor));
    for (const layer of image.layers) {
      expect(() => layer.open()).toThrow(AssetAbsentFilesError);
    }
    expect(() => image.layers[0]!.open()).toThrow(/"model\.bin" is not in this clone/);
  });

  it('one absent large file: the same manifest digest as the build with it; the pinned layer comes from the layout store', async () => {
    const { image: withBytes } = await build({}, true);
    await rm(at('model.bin'));
    await rm(options().store.statCache, { recursive: true, force: true });
    const analysis = await prepare();
    expect(analysis.absent.map((f) => f.relPath)).toEqual(['model.bin']);
    const image = await assembleAssetImage(analysis, options(), layerDigestsOf(options()));
    expect(image.manifest.descriptor.digest).toBe(withBytes.manifest.descriptor.digest);
    // The store holds the blob (the build above wrote it): the bytes come from there, verified by their digest.
    expect(await digestReadable(image.layers[0]!.open())).toEqual({
      digest: withBytes.layers[0]!.descriptor.digest,
      size: withBytes.layers[0]!.descriptor.size,
    });
  });

  it('buildAsset without the bytes (dev and CI): the lock is unchanged and image.json records the same image', async () => {
    await build();
    const right = (await readAssetImageResult(join(root, OUT)))!;
    const lockText = await readFile(at('asset.lock.json'), 'utf8');
    await rm(join(root, OUT), { recursive: true });
    await freshClone('model.bin');
    await build({ CI: 'true' });
    expect((await readAssetImageResult(join(root, OUT)))!.manifestDigest).toBe(right.manifestDigest);
    await build();
    expect((await readAssetImageResult(join(root, OUT)))!.manifestDigest).toBe(right.manifestDigest);
    expect(await readFile(at('asset.lock.json'), 'utf8')).toBe(lockText);
  });

  it.each<[string, (lock: AssetLock) => AssetLock | undefined, Record<string, unknown>, NodeJS.ProcessEnv, RegExp]>([
    [
      'a version 1 lock',
      (lock) => ({
        lockfileVersion: 1,
        files: Object.fromEntries(Object.entries(lock.files).map(([p, e]) => [p, { size: e.size, sha256: e.sha256 }])),
      }),
      {},
      {},
      /does not pin the image yet/,
    ],
    ['a version 2 lock without an image', (lock) => ({ lockfileVersion: 2, files: lock.files }), {}, {}, /does not pin the image yet/],
    ['another SOURCE_DATE_EPOCH', () => undefined, {}, { SOURCE_DATE_EPOCH: '1700000000' }, /does not pin their layer as it is now/],
    ['another compression', () => undefined, { compression: 'none' }, {}, /does not pin their layer as it is now/],
    ['another destination', () => undefined, { destination: '/models' }, {}, /does not pin their layer as it is now/],
  ])('an absent file whose layer is not pinned (%s) is AssetAbsentFilesError naming it', async (_label, editLock, fields, env, why) => {
    await build();
    const lock = editLock(await readLock());
    if (lock) await writeLock(lock);
    await manifest(fields);
    await freshClone('model.bin');
    const analysis = await prepareAsset(options(env), MANIFEST, { sources: 'skip' });
    expect(analysis.absent.map((f) => f.relPath)).toEqual(['model.bin']);
    const error = await assembleAssetImage(analysis, options(env), layerDigestsOf(options(env))).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AssetAbsentFilesError);
    expect((error as AssetAbsentFilesError).files).toEqual(['model.bin']);
    expect((error as Error).message).toMatch(/^assets\/x\/asset\.lock\.json: "model\.bin" is not in this clone: /);
    expect((error as Error).message).toMatch(why);
    expect((error as Error).message).toMatch(/nx run x:asset-pull/);
    expect(existsSync(at('model.bin'))).toBe(false);
  });

  it('a small-files layer whose other files changed is not pinned: the absent file in it is an error', async () => {
    await build();
    await freshClone('small.bin');
    await writeFile(at('config.txt'), 'hidden=8\n');
    const analysis = await prepare();
    expect(analysis.layers.find((l) => l.files.some((f) => f.relPath === 'small.bin'))!.pinned).toBeUndefined();
    await expect(buildAssetImage(analysis)).rejects.toThrow(/"small\.bin" is not in this clone: the lock does not pin their layer/);
  });
});
