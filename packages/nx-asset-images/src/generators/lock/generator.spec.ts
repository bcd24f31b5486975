import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { FsTree } from 'nx/src/generators/tree';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { lockGenerator } from './generator';

describe('lock sync generator', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'nxai-lock-'));
    process.env['NX_ASSET_IMAGES_STORE'] = join(root, '.asset-images');
    await mkdir(join(root, 'assets/bert'), { recursive: true });
    await writeFile(join(root, 'assets/bert/asset.json'), JSON.stringify({ image: 'localhost:5000/asset/bert' }));
    await writeFile(join(root, 'assets/bert/model.bin'), 'weights v1');
    await mkdir(join(root, 'assets/broken'), { recursive: true });
    await writeFile(join(root, 'assets/broken/asset.json'), '{ "image": 42 }');
  });
  afterEach(async () => {
    delete process.env['NX_ASSET_IMAGES_STORE'];
    await rm(root, { recursive: true, force: true });
  });

  it('writes a missing lock, reports it, and is in sync afterwards; a broken manifest does not stop it', async () => {
    const tree = new FsTree(root, false);
    const result = await lockGenerator(tree);
    expect(result.outOfSyncMessage).toMatch(/1 asset lock file/);
    expect(result.outOfSyncDetails).toEqual(['assets/bert/asset.lock.json: missing']);
    const lock = JSON.parse(tree.read('assets/bert/asset.lock.json', 'utf-8')!);
    expect(lock.files['model.bin']).toEqual({ size: 10, sha256: createHash('sha256').update('weights v1').digest('hex'), mode: 0o644 });
    expect(lock.lockfileVersion).toBe(2);
    expect(lock.image.layers.map((l: { files: string[] }) => l.files)).toEqual([['model.bin']]);
    expect(tree.exists('assets/broken/asset.lock.json')).toBe(false);

    await writeFile(join(root, 'assets/bert/asset.lock.json'), tree.read('assets/bert/asset.lock.json')!);
    expect(await lockGenerator(new FsTree(root, false))).toEqual({});
  });

  it('reports a changed file with its old and new checksum', async () => {
    const first = new FsTree(root, false);
    await lockGenerator(first);
    await writeFile(join(root, 'assets/bert/asset.lock.json'), first.read('assets/bert/asset.lock.json')!);
    await writeFile(join(root, 'assets/bert/model.bin'), 'weights v2');
    const result = await lockGenerator(new FsTree(root, false));
    expect(result.outOfSyncDetails?.[0]).toMatch(
      /~ model\.bin \(lock: 10 bytes sha256 [0-9a-f]{12} mode 0644, file: 10 bytes sha256 [0-9a-f]{12} mode 0644\)/,
    );
  });

  it('a clone without a pinned weight still writes the image pin, the same one a clone with the weight writes', async () => {
    const weight = Buffer.alloc(16 * 1024 * 1024, 3); // the default large-file threshold: a layer of its own
    await writeFile(join(root, 'assets/bert/model.bin'), weight);
    await writeFile(join(root, 'assets/bert/config.txt'), 'hidden=4\n');
    const first = new FsTree(root, false);
    await lockGenerator(first);
    const lockFile = join(root, 'assets/bert/asset.lock.json');
    const committed = first.read('assets/bert/asset.lock.json', 'utf-8')!;
    await writeFile(lockFile, committed);

    // With the weight: config.txt changes, the generator writes the new lock.
    await writeFile(join(root, 'assets/bert/config.txt'), 'hidden=8\n');
    const withWeight = new FsTree(root, false);
    await lockGenerator(withWeight);
    const expected = withWeight.read('assets/bert/asset.lock.json', 'utf-8')!;

    // A fresh clone of the committed lock without the weight, the same change.
    await writeFile(lockFile, committed);
    await rm(join(root, '.asset-images'), { recursive: true, force: true });
    await rm(join(root, 'assets/bert/model.bin'));
    const without = new FsTree(root, false);
    const result = await lockGenerator(without);
    expect(result.outOfSyncDetails?.[0]).toMatch(/~ config\.txt/);
    const written = without.read('assets/bert/asset.lock.json', 'utf-8')!;
    expect(JSON.parse(written).image.layers[0].files).toEqual(['model.bin']);
    expect(written).toBe(expected);
    expect(await readFile(lockFile, 'utf8')).toBe(committed);
  });
});
