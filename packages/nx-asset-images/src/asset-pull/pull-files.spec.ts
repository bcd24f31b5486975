import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AssetAbsentFilesError } from '../errors/asset-errors';
import { assertInsideFolder } from './pull-files';

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

/** An asset folder with `weights/` real, `out/` a symlink to a folder outside, `loop/` a symlink back inside. */
async function folder(): Promise<{ asset: string; outside: string }> {
  dir = await mkdtemp(join(tmpdir(), 'pull-files-'));
  const asset = join(dir, 'asset');
  const outside = join(dir, 'outside');
  await mkdir(join(asset, 'weights'), { recursive: true });
  await mkdir(outside);
  await symlink(outside, join(asset, 'out'));
  await symlink(join(asset, 'weights'), join(asset, 'inside'));
  return { asset, outside };
}

describe('assertInsideFolder: asset-pull writes only inside the asset folder', () => {
  it.each<[string, string, boolean]>([
    ['a file in a real subfolder', 'weights/model.bin', true],
    ['a file in folders that do not exist yet', 'new/deeper/model.bin', true],
    ['a file at the top', 'config.json', true],
    ['a symlinked folder that stays inside', 'inside/model.bin', true],
    ['a symlinked folder that leads outside', 'out/model.bin', false],
    ['missing folders under a symlink that leads outside', 'out/a/b/model.bin', false],
  ])('%s: %s', async (_name, relPath, allowed) => {
    const { asset, outside } = await folder();
    const outcome = await assertInsideFolder(asset, join(asset, relPath), 'assets/x/asset.lock.json', relPath).then(
      () => 'ok',
      (error: unknown) => error,
    );
    if (allowed) {
      expect(outcome).toBe('ok');
    } else {
      expect(outcome).toBeInstanceOf(AssetAbsentFilesError);
      expect((outcome as Error).message).toContain(relPath);
      expect((outcome as Error).message).toContain(outside);
    }
  });
});
