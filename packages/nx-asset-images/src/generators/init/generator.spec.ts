import { logger, readJson, writeJson, type Tree } from '@nx/devkit';
import { createTreeWithEmptyWorkspace } from '@nx/devkit/testing';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CI_ADVICE, initGenerator } from './generator';
import { addGitignoreEntries } from './gitignore-entries';

describe('init generator', () => {
  let tree: Tree;
  beforeEach(() => {
    tree = createTreeWithEmptyWorkspace();
    vi.spyOn(logger, 'info').mockImplementation(() => undefined);
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('registers the plugin and the lock sync generator, and gitignores the outputs', async () => {
    await initGenerator(tree, {});

    const nxJson = readJson(tree, 'nx.json');
    expect(nxJson.plugins).toEqual([{ plugin: 'nx-asset-images', options: {} }]);
    expect(nxJson.sync).toEqual({ globalGenerators: ['nx-asset-images:lock'] });
    expect(nxJson.affected).toEqual({ defaultBase: 'main' });
    expect(tree.read('.gitignore', 'utf-8')).toBe('# nx-asset-images\n.asset-images\ndist\n');
    expect(logger.info).toHaveBeenCalledWith(CI_ADVICE);
    expect(CI_ADVICE).toContain('nx sync:check');
  });

  it.each([
    ['a string', 'nx-asset-images'],
    ['an object with options', { plugin: 'nx-asset-images', options: { assetImageTargetName: 'image' } }],
    ['the ./plugin entry point', { plugin: 'nx-asset-images/plugin' }],
  ])('keeps an existing registration given as %s, without a duplicate', async (_label, entry) => {
    const nxJson = readJson(tree, 'nx.json');
    nxJson.plugins = ['@nx/js', entry];
    writeJson(tree, 'nx.json', nxJson);

    await initGenerator(tree, { skipFormat: true });

    expect(readJson(tree, 'nx.json').plugins).toEqual(['@nx/js', entry]);
  });

  it('appends after other plugins', async () => {
    writeJson(tree, 'nx.json', { plugins: [{ plugin: '@nx/docker', options: {} }] });
    await initGenerator(tree, { skipFormat: true });
    expect(readJson(tree, 'nx.json').plugins).toEqual([
      { plugin: '@nx/docker', options: {} },
      { plugin: 'nx-asset-images', options: {} },
    ]);
  });

  it.each([false, true])('leaves sync.applyChanges=%s as the user set it', async (value) => {
    writeJson(tree, 'nx.json', { sync: { applyChanges: value, disabledTaskSyncGenerators: ['x:y'] } });
    await initGenerator(tree, { skipFormat: true });
    expect(readJson(tree, 'nx.json').sync).toEqual({
      applyChanges: value,
      disabledTaskSyncGenerators: ['x:y'],
      globalGenerators: ['nx-asset-images:lock'],
    });
  });

  it('keeps other global sync generators and adds the lock generator once', async () => {
    writeJson(tree, 'nx.json', { sync: { globalGenerators: ['other:gen'] } });
    await initGenerator(tree, { skipFormat: true });
    await initGenerator(tree, { skipFormat: true });
    expect(readJson(tree, 'nx.json').sync).toEqual({ globalGenerators: ['other:gen', 'nx-asset-images:lock'] });
  });

  it('adds only the missing .gitignore lines, keeping CRLF', async () => {
    tree.write('.gitignore', 'node_modules\r\n/dist/\r\n');
    await initGenerator(tree, { skipFormat: true });
    expect(tree.read('.gitignore', 'utf-8')).toBe('node_modules\r\n/dist/\r\n\r\n# nx-asset-images\r\n.asset-images\r\n');
  });

  it('is idempotent: a second run changes nothing', async () => {
    tree.write('.gitignore', 'node_modules');
    await initGenerator(tree, { skipFormat: true });
    const nxJson = tree.read('nx.json', 'utf-8');
    const gitignore = tree.read('.gitignore', 'utf-8');
    expect(gitignore).toBe('node_modules\n\n# nx-asset-images\n.asset-images\ndist\n');

    await initGenerator(tree, { skipFormat: true });
    expect(tree.read('nx.json', 'utf-8')).toBe(nxJson);
    expect(tree.read('.gitignore', 'utf-8')).toBe(gitignore);
  });
});

describe('addGitignoreEntries', () => {
  it.each<[string | null, string]>([
    [null, '.asset-images\ndist\n'],
    ['', '.asset-images\ndist\n'],
    ['dist', 'dist\n.asset-images\n'],
    ['/.asset-images/\n/dist\n', '/.asset-images/\n/dist\n'],
    ['# dist\n', '# dist\n.asset-images\ndist\n'],
    ['a\r\nb', 'a\r\nb\r\n.asset-images\r\ndist\r\n'],
  ])('%j -> %j', (content, expected) => {
    expect(addGitignoreEntries(content, ['.asset-images', 'dist'])).toBe(expected);
  });
});
