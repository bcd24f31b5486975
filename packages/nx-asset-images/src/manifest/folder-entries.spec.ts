import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fg from 'fast-glob';
import { afterAll, describe, expect, it } from 'vitest';
import { listFolderEntries } from './folder-entries';

describe('listFolderEntries', () => {
  const root = mkdtempSync(join(tmpdir(), 'nxai-entries-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const tree = (name: string, files: string[], links: [string, string][] = []): string => {
    const dir = join(root, name);
    mkdirSync(dir, { recursive: true });
    for (const file of files) {
      mkdirSync(join(dir, file, '..'), { recursive: true });
      if (!file.endsWith('/')) writeFileSync(join(dir, file), file);
    }
    for (const [link, target] of links) symlinkSync(target, join(dir, link));
    return dir;
  };
  // fast-glob's answer for the same walk: what the scan used for every selection before.
  const reference = async (dir: string, skip: string[]) =>
    (await fg('**/*', { cwd: dir, dot: true, followSymbolicLinks: false, onlyFiles: false, objectMode: true, ignore: skip }))
      .filter((entry) => !entry.dirent.isDirectory())
      .map((entry) => entry.path)
      .sort();

  it.each<[string, string[], [string, string][], string[]]>([
    ['an empty folder', [], [], []],
    ['flat files', ['a.bin', 'b.txt'], [], []],
    ['nested folders and an empty one', ['w/x/y.bin', 'w/z.bin', 'empty/'], [], []],
    ['dotfiles and dot folders', ['.hidden', '.git/config', 'd/.x'], [], []],
    [
      'metadata names skipped at the top only',
      ['asset.json', 'README.md', 'docs/README.md', 'docs/asset.json'],
      [],
      ['asset.json', 'README.md'],
    ],
    [
      'symlinks to a file and to a folder are entries, never walked',
      ['t/f.bin'],
      [
        ['lf', 't/f.bin'],
        ['ld', 't'],
        ['dangling', 'nowhere'],
      ],
      [],
    ],
    ['names with spaces and unicode', ['a b/c d.bin', 'ü/ñ.txt'], [], []],
  ])('%s: the same entries as fast-glob', async (name, files, links, skip) => {
    const dir = tree(name.replace(/\W+/g, '-'), files, links);
    expect((await listFolderEntries(dir, new Set(skip))).sort()).toEqual(await reference(dir, skip));
  });

  it('a missing folder throws', async () => {
    await expect(listFolderEntries(join(root, 'missing'), new Set())).rejects.toThrow(/ENOENT/);
  });
});
