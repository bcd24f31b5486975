/**
 * Layer digest cache entries are keyed by everything the bytes depend on, and
 * an entry that turns out wrong when the layer is streamed is corrected and the
 * image assembled again: never a failed build, never a wrong digest recorded.
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildAsset } from '../asset-image/asset-build';
import { assetBuildOptions } from '../asset/build-options';
import type { Digest } from '../oci/image';
import { readAssetImageResult } from '../asset/asset-image-result';
import { compressedLayerKey } from './build-asset-image';
import { LayerDigestCache, StaleLayerDigestError } from './layer-digest-cache';
import { resolveAssetIndex } from '../resolve/resolve-asset-index';
import { resolveAssetImage } from '../resolve/resolve-asset-image';
import { parseAssetLock } from '../lock/lock';

const DIFF_ID = `sha256:${'d'.repeat(64)}` as Digest;
const WRONG = `sha256:${'0'.repeat(64)}` as Digest;
const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}` as Digest;

async function drain(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('compressedLayerKey', () => {
  const versions = { ...process.versions, zlib: '1.3.1', zstd: '1.5.6' } as NodeJS.ProcessVersions;
  it('changes with the codec, the level and the library version, and only with what the bytes depend on', () => {
    const base = compressedLayerKey(DIFF_ID, 'gzip', {}, versions);
    expect(compressedLayerKey(DIFF_ID, 'gzip', {}, versions)).toBe(base);
    expect(compressedLayerKey(DIFF_ID, 'gzip', { level: 6 }, versions)).toBe(base); // 6 is the default
    expect(compressedLayerKey(DIFF_ID, 'gzip', { level: 9 }, versions)).not.toBe(base);
    expect(compressedLayerKey(DIFF_ID, 'gzip', {}, { ...versions, zlib: '1.3.0.1-motley' })).not.toBe(base);
    expect(compressedLayerKey(DIFF_ID, 'zstd', {}, versions)).not.toBe(
      compressedLayerKey(DIFF_ID, 'zstd', {}, { ...versions, zstd: '1.5.7' }),
    );
    expect(compressedLayerKey(DIFF_ID, 'zstd', {}, versions)).not.toBe(compressedLayerKey(DIFF_ID, 'zstd', { level: 19 }, versions));
    expect(compressedLayerKey(`sha256:${'e'.repeat(64)}`, 'gzip', {}, versions)).not.toBe(base);
    // zstd's version unknown (older Node.js): the Node.js version stands in, so another Node.js is another key.
    const { zstd: _zstd, ...noZstd } = versions;
    expect(compressedLayerKey(DIFF_ID, 'zstd', {}, noZstd as NodeJS.ProcessVersions)).not.toBe(
      compressedLayerKey(DIFF_ID, 'zstd', {}, versions),
    );
    // No raw version strings in a file name.
    expect(base).toMatch(/^gzip-[0-9a-f]{64}$/);
  });
});

describe('LayerDigestCache.guard', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nxai-ldc-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const bytes = Buffer.alloc(100_000, 'x');

  it('passes right bytes through unchanged', async () => {
    const cache = new LayerDigestCache(dir);
    const known = { digest: sha(bytes), size: bytes.length };
    await cache.set('k', known);
    expect((await drain(cache.guard('k', known, Readable.from([bytes.subarray(0, 10), bytes.subarray(10)]), 'layer'))).equals(bytes)).toBe(
      true,
    );
    expect(cache.staleEntries).toBe(0);
  });

  it('fails a wrong digest instead of completing, and corrects the entry', async () => {
    const cache = new LayerDigestCache(dir);
    await cache.set('k', { digest: WRONG, size: bytes.length });
    const error = await drain(cache.guard('k', { digest: WRONG, size: bytes.length }, Readable.from([bytes]), 'layer')).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StaleLayerDigestError);
    expect((error as Error).message).toMatch(/remembered sha256:0{64}.*the entry is corrected/);
    expect(await cache.get('k')).toEqual({ digest: sha(bytes), size: bytes.length });
    expect(cache.staleEntries).toBe(1);
  });

  it('drops an entry whose size the bytes run past', async () => {
    const cache = new LayerDigestCache(dir);
    await cache.set('k', { digest: sha(bytes), size: 10 });
    const error = await drain(cache.guard('k', { digest: sha(bytes), size: 10 }, Readable.from([bytes]), 'layer')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StaleLayerDigestError);
    expect(await cache.get('k')).toBeUndefined();
  });
});

describe('a wrong layer digest cache entry is corrected, never a failed build', () => {
  const ENV = ['SOURCE_DATE_EPOCH', 'NX_ASSET_IMAGES_STORE', 'NX_ASSET_IMAGES_CACHE_DIR', 'CI'] as const;
  const MANIFEST = 'assets/x/asset.json';
  const OUT = 'dist/asset-images/x';
  let root: string;
  let saved: Record<string, string | undefined>;
  beforeEach(async () => {
    saved = Object.fromEntries(ENV.map((name) => [name, process.env[name]]));
    for (const name of ENV) delete process.env[name];
    root = await mkdtemp(join(tmpdir(), 'nxai-ldc-build-'));
    await mkdir(join(root, 'assets/x'), { recursive: true });
    await writeFile(
      join(root, MANIFEST),
      JSON.stringify({ name: 'x', image: 'localhost:5000/asset/x', tags: ['0.1'], files: ['*.bin', '*.txt'], compression: 'gzip' }),
    );
    await writeFile(join(root, 'assets/x/model.bin'), Buffer.alloc(3000, 7));
    await writeFile(join(root, 'assets/x/config.txt'), 'hidden=4\n');
    await writeFile(join(root, 'assets/x/vocab.txt'), 'a\nb\n');
  });
  afterEach(async () => {
    for (const name of ENV) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
    await rm(root, { recursive: true, force: true });
  });

  const digestsDir = () => join(root, '.asset-images', 'layer-digests');
  async function entries(): Promise<Record<string, string>> {
    const names = (await readdir(digestsDir())).filter((name) => name.endsWith('.json')).sort();
    return Object.fromEntries(
      await Promise.all(names.map(async (name) => [name, await readFile(join(digestsDir(), name), 'utf8')] as const)),
    );
  }
  /** Every entry wrong: the compressed ones with a wrong digest, the grouped tar's with a wrong digest and a too small size. */
  async function plantWrongEntries(names: string[]): Promise<void> {
    for (const name of names) {
      const right = JSON.parse(await readFile(join(digestsDir(), name), 'utf8')) as { size: number };
      const wrong = name.startsWith('group-') ? { digest: WRONG, size: 10 } : { digest: WRONG, size: right.size };
      await writeFile(join(digestsDir(), name), JSON.stringify(wrong));
    }
  }
  const task = (ociLayout: boolean, platforms?: string[]) =>
    buildAsset(assetBuildOptions(root, { largeFileThreshold: 1000, platforms }), {
      manifestFile: MANIFEST,
      outputPath: OUT,
      load: false,
      ociLayout,
    });

  it('asset-image: the layout write finds the wrong entries, the build succeeds with the right digest and the entries are corrected', async () => {
    await task(true);
    const right = (await readAssetImageResult(join(root, OUT)))!;
    const good = await entries();
    expect(
      Object.keys(good)
        .map((name) => name.split('-')[0])
        .sort(),
    ).toEqual(['group', 'gzip', 'gzip']);

    await plantWrongEntries(Object.keys(good));
    await rm(join(root, '.asset-images', 'oci'), { recursive: true, force: true });
    await rm(join(root, OUT), { recursive: true, force: true });
    await task(true);

    const rebuilt = (await readAssetImageResult(join(root, OUT)))!;
    expect(rebuilt.manifestDigest).toBe(right.manifestDigest);
    expect(rebuilt.layers).toEqual(right.layers);
    expect(await entries()).toEqual(good);
    // The lock's image pin is the delivered image's, never the one assembled from the wrong entries.
    const lock = parseAssetLock(await readFile(join(root, 'assets/x/asset.lock.json'), 'utf8'), 'lock');
    expect(lock.image?.manifest).toBe(right.manifestDigest);
    expect(lock.image?.layers.map((l) => l.digest)).toEqual(right.layers.map((l) => l.digest));
  });

  it('resolveAssetImage: a rebuild that disagrees with image.json drops the cached entries it used and recomputes them', async () => {
    await task(false, ['linux/amd64']); // no layout store: nothing but the rebuild can give the bytes back
    const right = (await readAssetImageResult(join(root, OUT)))!;
    expect(right.platforms).toBeUndefined();
    const good = await entries();
    await plantWrongEntries(Object.keys(good));

    const { image, origin } = await resolveAssetImage(root, MANIFEST, right, { pull: false });
    expect(origin).toBe('sources');
    expect(image.manifest.descriptor.digest).toBe(right.manifestDigest);
    expect(await entries()).toEqual(good);
  });

  it('resolveAssetIndex (the default, two platforms): the same for a rebuild of the index', async () => {
    await task(false);
    const right = (await readAssetImageResult(join(root, OUT)))!;
    expect(right.platforms?.map((p) => p.platform)).toEqual(['linux/amd64', 'linux/arm64']);
    const good = await entries();
    await plantWrongEntries(Object.keys(good));

    const { index, origin } = await resolveAssetIndex(root, MANIFEST, right, { pull: false });
    expect(origin).toBe('sources');
    expect(index.index.descriptor.digest).toBe(right.manifestDigest);
    expect(await entries()).toEqual(good);
  });
});
