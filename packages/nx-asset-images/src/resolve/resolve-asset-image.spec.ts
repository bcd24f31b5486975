/**
 * A build with non-default parameters (SOURCE_DATE_EPOCH, platform,
 * largeFileThreshold, gzip) records them in image.json, and a later rebuild
 * from the sources (what docker-build, asset-push and a cache hit do when the
 * layout store lacks the bytes) uses them, whatever the environment says then.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildAsset } from '../asset-image/asset-build';
import { assetBuildOptions } from '../asset/build-options';
import { readAssetImageResult, type AssetImageResult } from '../asset/asset-image-result';
import { rebuildParameters, resolveAssetImage, unrecordedBuildDefaults } from './resolve-asset-image';
import { compressionLibrary } from '../oci/compression';
import { DEFAULT_GZIP_LEVEL } from '../oci/layer-codecs';
import { DEFAULT_LARGE_FILE_THRESHOLD } from '../asset/layer-plan';

const ENV = ['SOURCE_DATE_EPOCH', 'NX_ASSET_IMAGES_STORE', 'NX_ASSET_IMAGES_CACHE_DIR', 'CI'] as const;
const MANIFEST = 'assets/x/asset.json';
const OUT = 'dist/asset-images/x';

describe('resolveAssetImage rebuilds with the parameters the build recorded', () => {
  let root: string;
  let saved: Record<string, string | undefined>;
  beforeEach(async () => {
    saved = Object.fromEntries(ENV.map((name) => [name, process.env[name]]));
    for (const name of ENV) delete process.env[name];
    root = await mkdtemp(join(tmpdir(), 'nxai-resolve-'));
    await mkdir(join(root, 'assets/x/weights'), { recursive: true });
    await writeFile(
      join(root, MANIFEST),
      JSON.stringify({
        name: 'x',
        image: 'localhost:5000/asset/x',
        tags: ['0.1'],
        files: ['weights/**', 'config.txt'],
        compression: 'gzip',
      }),
    );
    await writeFile(join(root, 'assets/x/weights/model.bin'), Buffer.alloc(5000, 7));
    await writeFile(join(root, 'assets/x/weights/small.bin'), Buffer.alloc(900, 1));
    await writeFile(join(root, 'assets/x/config.txt'), 'hidden=4\n');
  });
  afterEach(async () => {
    for (const name of ENV) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
    await rm(root, { recursive: true, force: true });
  });

  async function buildWithNonDefaults(): Promise<AssetImageResult> {
    process.env['SOURCE_DATE_EPOCH'] = '1700000000';
    // No layout store: a rebuild from the sources is the only way back to the bytes.
    await buildAsset(assetBuildOptions(root, { platforms: ['linux/arm64/v8'], largeFileThreshold: 1000 }), {
      manifestFile: MANIFEST,
      outputPath: OUT,
      load: false,
      ociLayout: false,
    });
    delete process.env['SOURCE_DATE_EPOCH'];
    return (await readAssetImageResult(join(root, OUT)))!;
  }

  it('records mtime, platform, threshold and compression in image.json', async () => {
    const result = await buildWithNonDefaults();
    expect(result.build).toEqual({
      mtime: 1700000000,
      platform: 'linux/arm64/v8',
      largeFileThreshold: 1000,
      compression: { codec: 'gzip', level: DEFAULT_GZIP_LEVEL, library: compressionLibrary('gzip') },
    });
    // The threshold mattered: the 5000-byte file has a layer of its own.
    expect(result.layers.map((l) => l.files)).toEqual([['weights/model.bin'], ['config.txt', 'weights/small.bin']]);
  });

  it('rebuilds to the same digest with nothing set in the environment or the options', async () => {
    const result = await buildWithNonDefaults();
    const { image, origin } = await resolveAssetImage(root, MANIFEST, result, { pull: false });
    expect(origin).toBe('sources');
    expect(image.manifest.descriptor.digest).toBe(result.manifestDigest);
    expect(image.config.descriptor.digest).toBe(result.configDigest);
  });

  it("the recorded parameters win over today's settings (a docker-build or push under another SOURCE_DATE_EPOCH)", async () => {
    const result = await buildWithNonDefaults();
    const { image } = await resolveAssetImage(root, MANIFEST, result, {
      pull: false,
      mtime: 5,
      platform: { os: 'linux', architecture: 'amd64' },
      largeFileThreshold: DEFAULT_LARGE_FILE_THRESHOLD,
    });
    expect(image.manifest.descriptor.digest).toBe(result.manifestDigest);
  });

  it("an image.json without them falls back to today's settings, and says so when they do not match", async () => {
    const result = await buildWithNonDefaults();
    const { build: _build, ...rest } = result;
    const old: AssetImageResult = rest;
    const error = await resolveAssetImage(root, MANIFEST, old, { pull: false }).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/they changed since the build.*records no build parameters/);

    // Today's settings that happen to be the build's: found.
    process.env['SOURCE_DATE_EPOCH'] = '1700000000';
    const fallback = unrecordedBuildDefaults(old, { platform: 'linux/arm64/v8', largeFileThreshold: 1000 });
    const { image } = await resolveAssetImage(root, MANIFEST, old, { pull: false, ...fallback });
    expect(image.manifest.descriptor.digest).toBe(result.manifestDigest);
  });

  it('unrecordedBuildDefaults reads nothing when the result records its parameters', async () => {
    process.env['SOURCE_DATE_EPOCH'] = 'not a number'; // would throw if read
    expect(
      unrecordedBuildDefaults({ build: { mtime: 1, platform: 'linux/amd64', largeFileThreshold: 10, compression: { codec: 'none' } } }),
    ).toEqual({});
    expect(() => unrecordedBuildDefaults({})).toThrow(/SOURCE_DATE_EPOCH/);
  });

  it('rebuildParameters takes each unusable recorded field from the fallback', () => {
    const fallback = { mtime: 3, platform: { os: 'linux', architecture: 'amd64' }, largeFileThreshold: 99 };
    expect(
      rebuildParameters(
        { build: { mtime: -1, platform: 'nonsense', largeFileThreshold: 0, compression: { codec: 'zstd', level: 9 } } },
        fallback,
      ),
    ).toEqual({ ...fallback, compressionLevel: 9 });
    expect(rebuildParameters({}, fallback)).toEqual(fallback);
  });
});
