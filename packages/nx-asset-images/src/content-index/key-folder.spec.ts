import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempPathFor } from '../util/atomic-write';
import { KEY_FOLDER_MAX_AGE_MS, keyFolderTime, pruneKeyFolders, writeKeyFolder } from './key-folder';

const T = 1_765_000_000_000;

describe('keyFolderTime', () => {
  it.each<[string, string, number | undefined]>([
    ['a folder', `${T}-123-0a1b2c3d`, T],
    ['its temp folder', basename(tempPathFor(`/x/${T}-123-0a1b2c3d`)), T],
    ['another file in the store', 'stat-cache', undefined],
    ['a short number', '12-1-0a1b2c3d', undefined],
    ['no random part', `${T}-123`, undefined],
    ['a hidden name that is not a temp folder', `.${T}-123-0a1b2c3d`, undefined],
    ['a folder name with a temp suffix but no dot', `${T}-123-0a1b2c3d.1.0a1b2c3d.tmp`, undefined],
  ])('%s', (_, name, expected) => {
    expect(keyFolderTime(name)).toBe(expected);
  });
});

describe('key folders', () => {
  const root = mkdtempSync(join(tmpdir(), 'nxai-key-folder-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('writes one file per asset with its line, and leaves no temp folder behind', async () => {
    const parent = join(root, 'write');
    const folder = await writeKeyFolder(
      parent,
      new Map([
        ['0123456789abcdef', 'line a'],
        ['fedcba9876543210', 'line b'],
      ]),
      T,
    );
    expect(keyFolderTime(basename(folder))).toBe(T);
    expect(readdirSync(parent)).toEqual([basename(folder)]);
    expect(readFileSync(join(folder, '0123456789abcdef'), 'utf8')).toBe('line a\n');
    expect(readFileSync(join(folder, 'fedcba9876543210'), 'utf8')).toBe('line b\n');
  });

  it('a failed write leaves nothing, and throws', async () => {
    const parent = join(root, 'fail');
    // A file name that is a path into a folder that does not exist: its write fails.
    await expect(
      writeKeyFolder(
        parent,
        new Map([
          ['ok', 'a'],
          ['missing/x', 'b'],
        ]),
        T,
      ),
    ).rejects.toThrow(/ENOENT/);
    expect(readdirSync(parent)).toEqual([]);
  });

  it('prunes folders and temp folders older than the limit by the time in their name, nothing else', async () => {
    const parent = join(root, 'prune');
    const old = await writeKeyFolder(parent, new Map([['a', 'x']]), T - KEY_FOLDER_MAX_AGE_MS - 1);
    const fresh = await writeKeyFolder(parent, new Map([['a', 'x']]), T - KEY_FOLDER_MAX_AGE_MS + 1000);
    const oldTemp = tempPathFor(join(parent, `${T - KEY_FOLDER_MAX_AGE_MS - 5}-1-0a1b2c3d`));
    mkdirSync(oldTemp);
    writeFileSync(join(parent, 'README'), 'not ours');
    expect(await pruneKeyFolders(parent, T)).toBe(2);
    expect(existsSync(old)).toBe(false);
    expect(existsSync(oldTemp)).toBe(false);
    expect(readdirSync(parent).sort()).toEqual([basename(fresh), 'README'].sort());
    expect(await pruneKeyFolders(join(root, 'none'), T)).toBe(0);
  });
});
