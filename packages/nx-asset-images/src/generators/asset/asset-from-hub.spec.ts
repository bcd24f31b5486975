// The asset generator's --from against the loopback Hub stand-in: a new asset, an update, an error that writes nothing.
import { logger, readJson, writeJson, type Tree } from '@nx/devkit';
import { createTreeWithEmptyWorkspace } from '@nx/devkit/testing';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { sha256Hex, startFakeHub, type FakeHub } from '../../hub/__fixtures__/fake-hub';
import { assetGenerator } from './generator';
import { InvalidAssetOptionError } from './asset-options';

const V1 = '1'.repeat(40);
const V2 = '2'.repeat(40);
const weights1 = Buffer.alloc(100, 1);
const weights2 = Buffer.alloc(120, 2);
const tokenizer = Buffer.from('{"v": 1}\n');

describe('asset generator --from', () => {
  let hub: FakeHub;
  let tree: Tree;
  let cacheDir: string;
  let info: string[];
  let warn: string[];
  const saved = { ...process.env };

  beforeAll(async () => {
    hub = await startFakeHub({
      repos: {
        'org/bert': {
          refs: { main: V2, v1: V1 },
          commits: {
            [V1]: [
              { path: 'model.safetensors', bytes: weights1, lfs: true },
              { path: 'tokenizer.json', bytes: tokenizer },
              { path: 'README.md', bytes: Buffer.from('# card\n') },
            ],
            [V2]: [
              { path: 'model.safetensors', bytes: weights2, lfs: true },
              { path: 'tokenizer.json', bytes: tokenizer },
              { path: 'onnx/model.onnx', bytes: Buffer.from('onnx') },
            ],
          },
        },
      },
    });
  });
  afterAll(() => hub.close());
  beforeEach(() => {
    cacheDir = mkdtempSync(join(tmpdir(), 'nxai-gen-hub-'));
    process.env['HF_ENDPOINT'] = hub.endpoint;
    process.env['NX_ASSET_IMAGES_CACHE_DIR'] = cacheDir;
    delete process.env['HF_TOKEN'];
    tree = createTreeWithEmptyWorkspace();
    info = [];
    warn = [];
    vi.spyOn(logger, 'info').mockImplementation((m) => void info.push(String(m)));
    vi.spyOn(logger, 'warn').mockImplementation((m) => void warn.push(String(m)));
  });
  afterEach(() => {
    vi.restoreAllMocks();
    process.env = { ...saved };
    rmSync(cacheDir, { recursive: true, force: true });
  });

  const base = { name: 'bert', image: 'localhost:5000/asset/bert', skipFormat: true };

  it('creates the asset: one pinned source per selected file, the commit, file count and size printed; README.md left out', async () => {
    await assetGenerator(tree, { ...base, from: `hf://org/bert@v1`, tags: '1.0' });
    expect(readJson(tree, 'assets/bert/asset.json')).toEqual({
      $schema: '../../node_modules/nx-asset-images/asset.schema.json',
      name: 'bert',
      image: 'localhost:5000/asset/bert',
      tags: ['1.0'],
      sources: [
        {
          url: `${hub.endpoint}/org/bert/resolve/${V1}/model.safetensors`,
          sha256: sha256Hex(weights1),
          path: 'model.safetensors',
          size: 100,
        },
        {
          url: `${hub.endpoint}/org/bert/resolve/${V1}/tokenizer.json`,
          sha256: sha256Hex(tokenizer),
          path: 'tokenizer.json',
          size: tokenizer.length,
        },
      ],
    });
    expect(info).toEqual(
      expect.arrayContaining([
        `hf://org/bert@v1 is commit ${V1}`,
        `2 files, 109 B (109 bytes), pinned to that commit`,
        'README.md left out: the asset has that path already (its own file or another source)',
      ]),
    );
  });

  it('updates an existing asset to a new revision: other fields kept, changes printed, unchanged version tags warned about', async () => {
    await assetGenerator(tree, { ...base, from: 'hf://org/bert@v1', tags: '1.0' });
    const path = 'assets/bert/asset.json';
    writeJson(tree, path, { ...readJson(tree, path), compression: 'gzip' });
    info.length = 0;

    await assetGenerator(tree, { name: 'bert', from: 'hf://org/bert', skipFormat: true, image: 'localhost:5000/asset/bert', tags: '2.0' });
    const manifest = readJson(tree, path);
    expect(Object.keys(manifest)).toEqual(['$schema', 'name', 'image', 'tags', 'sources', 'compression']);
    expect(manifest).toMatchObject({ tags: ['1.0'], compression: 'gzip' });
    expect(manifest.sources.map((s: { url: string }) => s.url)).toEqual(
      ['model.safetensors', 'onnx/model.onnx', 'tokenizer.json'].map((p) => `${hub.endpoint}/org/bert/resolve/${V2}/${p}`),
    );
    expect(info).toEqual(
      expect.arrayContaining([
        `hf://org/bert@main is commit ${V2} (no revision given: took main)`,
        '  changed: model.safetensors',
        '  added:   onnx/model.onnx',
      ]),
    );
    expect(warn.join('\n')).toMatch(/the content changes but the version tags 1\.0 stay the same; asset-push refuses/);
    expect(warn.join('\n')).toContain('--tags 2.0 is not used: assets/bert/asset.json keeps its "tags"');
    expect(warn.join('\n')).not.toContain('--image');
  });

  it('keeps the sources of other origins on an update, and their paths: a file of the revision on such a path is left out', async () => {
    const own = { url: 'https://example.com/tokenizer.json', sha256: 'f'.repeat(64), path: 'tokenizer.json' };
    writeJson(tree, 'assets/bert/asset.json', { name: 'bert', image: 'localhost:5000/asset/bert', tags: ['latest'], sources: [own] });
    await assetGenerator(tree, { name: 'bert', from: 'hf://org/bert', skipFormat: true });
    const sources = readJson(tree, 'assets/bert/asset.json').sources;
    expect(sources.map((s: { url: string }) => s.url)).toEqual([
      own.url,
      `${hub.endpoint}/org/bert/resolve/${V2}/model.safetensors`,
      `${hub.endpoint}/org/bert/resolve/${V2}/onnx/model.onnx`,
    ]);
    expect(info).toContain('tokenizer.json left out: the asset has that path already (its own file or another source)');
    expect(warn).toEqual([]); // "latest" may move
  });

  it.each([
    ['an unknown revision', { ...base, from: 'hf://org/bert@nope' }, /hf:\/\/org\/bert@nope: org\/bert has no revision "nope"/],
    ['an unknown repo', { ...base, from: 'hf://org/none' }, /hf:\/\/org\/none@main: no repository org\/none/],
    ['a selection of nothing', { ...base, from: 'hf://org/bert', include: '*.gguf' }, /no file of hf:\/\/org\/bert@main .* is selected/],
  ])('%s writes nothing', async (_name, options, message) => {
    await expect(assetGenerator(tree, options)).rejects.toThrow(message);
    expect(tree.listChanges().filter((c) => c.path.startsWith('assets/'))).toEqual([]);
  });

  it.each([
    [{ ...base, include: '*.json' }, 'include'],
    [{ ...base, from: 'https://huggingface.co/org/bert' }, 'from'],
    [{ ...base, from: 'hf://org/bert', source: 'https://x/y', sha256: 'a'.repeat(64), path: 'y' }, 'source'],
  ])('rejects %j naming --%s', async (options, option) => {
    await expect(assetGenerator(tree, options)).rejects.toThrow(InvalidAssetOptionError);
    await expect(assetGenerator(tree, options)).rejects.toMatchObject({ option });
  });
});
