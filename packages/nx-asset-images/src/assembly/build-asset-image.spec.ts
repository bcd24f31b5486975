import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AssetAnalysis } from '../asset/analyze-asset';
import { buildAssetImage, buildAssetImageIndex, groupLayerKey } from './build-asset-image';
import { canonicalJson } from '../oci/canonical-json';
import { LayerDigestCache } from './layer-digest-cache';
import { createHash } from 'node:crypto';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

describe('buildAssetImage with a layer digest cache', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nxai-build-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  function analysis(content: string): AssetAnalysis {
    return {
      manifest: {
        name: 'x',
        image: 'localhost:5000/x',
        tags: [],
        files: [],
        exclude: [],
        destination: '/',
        sources: [],
        compression: 'none',
        annotations: {},
        file: 'x/asset.json',
        projectRoot: 'x',
      },
      lock: { lockfileVersion: 2, files: {} },
      absent: [],
      removed: [],
      layers: [
        {
          kind: 'small-files',
          files: [
            {
              relPath: 'a.txt',
              imagePath: 'a.txt',
              size: content.length,
              mode: 0o644,
              sha256: sha(content),
              absPath: join(dir, 'a.txt'),
              origin: 'local',
            },
          ],
        },
      ],
    };
  }

  it('knows a grouped layer by its entries without reading them again, and recomputes when one changes', async () => {
    const cache = new LayerDigestCache(join(dir, 'cache'));
    await writeFile(join(dir, 'a.txt'), 'hello');
    const first = await buildAssetImage(analysis('hello'), { layerDigests: cache });

    // The file is gone: a cached entry must not need it to know the digest.
    await rm(join(dir, 'a.txt'));
    const second = await buildAssetImage(analysis('hello'), { layerDigests: cache });
    expect(second.manifest.descriptor.digest).toBe(first.manifest.descriptor.digest);

    // Different content (the analysis says so): not a cache hit, the bytes are read.
    await writeFile(join(dir, 'a.txt'), 'world');
    const third = await buildAssetImage(analysis('world'), { layerDigests: cache });
    expect(third.layers[0]!.diffId).not.toBe(first.layers[0]!.diffId);
  });

  it('a multi-platform build: the index over one manifest per platform with the same layers; the amd64 one is the single-platform image', async () => {
    await writeFile(join(dir, 'a.txt'), 'hello');
    const single = await buildAssetImage(analysis('hello'), { mtime: 10 });
    const multi = await buildAssetImageIndex(
      analysis('hello'),
      [
        { os: 'linux', architecture: 'amd64' },
        { os: 'linux', architecture: 'arm64' },
      ],
      { mtime: 10 },
    );
    expect(multi.images.map((i) => i.image.layers.map((l) => l.descriptor.digest))).toEqual([
      single.layers.map((l) => l.descriptor.digest),
      single.layers.map((l) => l.descriptor.digest),
    ]);
    // Same config options as the single-platform build: its manifest is the index's amd64 entry.
    expect(multi.images[0]!.image.manifest.descriptor.digest).toBe(single.manifest.descriptor.digest);
    expect(JSON.parse(multi.images[1]!.image.config.bytes.toString('utf8'))).toMatchObject({
      architecture: 'arm64',
      created: '1970-01-01T00:00:10Z',
    });
  });
});

describe('groupLayerKey', () => {
  /** The definition: sha256 of the canonical JSON of everything the group's tar is made of. */
  const byDefinition = (mtime: number, files: { imagePath: string; mode: number; size: number; sha256: string }[]) =>
    `group-${createHash('sha256')
      .update(canonicalJson({ format: 1, mtime, files: files.map((f) => [f.imagePath, f.mode, f.size, f.sha256]) }))
      .digest('hex')}`;
  const file = (imagePath: string, size = 3, mode = 0o644) => ({ imagePath, mode, size, sha256: sha(imagePath) });
  const cases: [string, number, ReturnType<typeof file>[]][] = [
    ['no files', 0, []],
    ['one file', 0, [file('a.txt')]],
    ['an mtime', 1_700_000_000, [file('a.txt'), file('b/c.bin', 0, 0o755)]],
    ['quotes, backslashes and control characters', 0, [file('a "q".txt'), file('b\\c'), file('tab\tnew\nline')]],
    ['non-ASCII and astral characters', 0, [file('données/é.txt'), file('emoji/😀.bin'), file('\u2028sep')]],
    ['large sizes', 0, [file('w.bin', 2 ** 40)]],
  ];
  it.each(cases)('is the digest of the canonical JSON: %s', (_, mtime, files) => {
    expect(groupLayerKey(mtime, files)).toBe(byDefinition(mtime, files));
  });
  it('refuses what canonical JSON refuses: a non-finite number', () => {
    expect(() => groupLayerKey(Number.NaN, [])).toThrow(TypeError);
    expect(() => groupLayerKey(0, [file('a', Number.POSITIVE_INFINITY)])).toThrow(TypeError);
  });
});
