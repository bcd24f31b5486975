import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AssetAnalysis } from './analyze-asset';
import { buildAssetImage } from './build-asset-image';
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
});
