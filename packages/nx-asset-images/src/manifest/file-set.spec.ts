import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { mkdir, mkdtemp, rm, symlink, writeFile, realpath } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { AssetFilesError } from '../errors/asset-errors';
import { resolveAssetFiles } from './file-set';
import type { AssetManifest } from './manifest';

let ws: string;
const ROOT = 'assets/bert';

async function put(rel: string, content = rel): Promise<void> {
  const path = join(ws, ROOT, rel);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, content);
}

function manifest(overrides: Partial<AssetManifest> = {}): AssetManifest {
  return {
    file: `${ROOT}/asset.json`,
    projectRoot: ROOT,
    name: 'assets-bert',
    image: 'asset/bert',
    tags: ['latest'],
    files: ['**/*'],
    exclude: [],
    destination: '/',
    sources: [],
    compression: 'none',
    annotations: {},
    ...overrides,
  };
}

async function resolveError(m: AssetManifest): Promise<AssetFilesError> {
  try {
    await resolveAssetFiles(m, { workspaceRoot: ws });
  } catch (error) {
    expect(error).toBeInstanceOf(AssetFilesError);
    return error as AssetFilesError;
  }
  throw new Error('expected resolveAssetFiles to throw');
}

beforeEach(async () => {
  ws = await realpath(await mkdtemp(join(tmpdir(), 'asset-files-')));
  await put('asset.json', '{}');
  await put('asset.lock.json', '{}');
  await put('README.md', '# bert');
  await put('docs/README.md', 'nested readme is content');
  await put('weights/model.bin', 'weights!');
  await put('vocab.txt', 'a b c');
  await put('.hidden', 'dot');
  await put('tmp/scratch.tmp', 'x');
});
afterEach(async () => {
  await rm(ws, { recursive: true, force: true });
});

const paths = async (m: AssetManifest) => (await resolveAssetFiles(m, { workspaceRoot: ws })).map((file) => file.relPath);

describe('resolveAssetFiles', () => {
  it('takes everything but the metadata files at the root, dotfiles included, sorted', async () => {
    const files = await resolveAssetFiles(manifest(), { workspaceRoot: ws });
    expect(files.map((file) => file.relPath)).toEqual(['.hidden', 'docs/README.md', 'tmp/scratch.tmp', 'vocab.txt', 'weights/model.bin']);
    const model = files.find((file) => file.relPath === 'weights/model.bin')!;
    expect(model.absPath).toBe(join(ws, ROOT, 'weights/model.bin'));
    expect(model.size).toBe(8);
    expect(model.mode & 0o170000).toBe(0o100000);
    expect(model.mtimeMs).toBeGreaterThan(0);
    expect(model.linkPath).toBeUndefined();
  });

  it.each<[string, Partial<AssetManifest>, string[]]>([
    ['exclude globs', { exclude: ['**/*.tmp', '.hidden'] }, ['docs/README.md', 'vocab.txt', 'weights/model.bin']],
    ['explicit globs', { files: ['weights/**', '*.txt'] }, ['vocab.txt', 'weights/model.bin']],
    ['exclude a folder by name', { exclude: ['tmp', 'docs/'] }, ['.hidden', 'vocab.txt', 'weights/model.bin']],
    ['a folder name stands for its content', { files: ['weights'] }, ['weights/model.bin']],
    ['negated globs in files', { files: ['**/*', '!tmp/**', '!docs/**'] }, ['.hidden', 'vocab.txt', 'weights/model.bin']],
    ['overlapping globs give each file once', { files: ['**/*.bin', 'weights/*'] }, ['weights/model.bin']],
    ['a leading ./ names the same file once', { files: ['./vocab.txt', 'vocab.txt', './weights/*'] }, ['vocab.txt', 'weights/model.bin']],
    ['a ./ inside a glob', { files: ['weights/./model.bin'] }, ['weights/model.bin']],
  ])('%s', async (_label, overrides, expected) => {
    expect(await paths(manifest(overrides))).toEqual(expected);
  });

  it('leaves out nested asset projects', async () => {
    await put('sub/asset.json', '{}');
    await put('sub/inner.bin', 'x');
    expect(await paths(manifest())).not.toContain('sub/inner.bin');
  });

  it('an empty asset folder with default files is no error', async () => {
    await rm(join(ws, ROOT), { recursive: true });
    await put('asset.json', '{}');
    expect(await paths(manifest())).toEqual([]);
  });

  it('names the glob that matches nothing', async () => {
    const error = await resolveError(manifest({ files: ['weights/**', 'vocab.txt', 'tokenizer/*.json'] }));
    expect(error.field).toBe('files[2]');
    expect(error.path).toBe('tokenizer/*.json');
    expect(error.file).toBe(`${ROOT}/asset.json`);
    expect(error.message).toMatch(/field "files\[2\]": "tokenizer\/\*\.json" matches no file in assets\/bert/);
  });

  it('a glob whose matches are all excluded matches nothing', async () => {
    const error = await resolveError(manifest({ files: ['**/*.tmp', 'vocab.txt'], exclude: ['tmp/**'] }));
    expect(error.field).toBe('files[0]');
    expect(error.message).toMatch(/after "exclude"/);
  });

  it('a symlink inside the folder to a file inside stands for its target', async () => {
    await symlink('weights/model.bin', join(ws, ROOT, 'model-link.bin'));
    const files = await resolveAssetFiles(manifest(), { workspaceRoot: ws });
    const link = files.find((file) => file.relPath === 'model-link.bin')!;
    expect(link.absPath).toBe(join(ws, ROOT, 'weights/model.bin'));
    expect(link.linkPath).toBe(join(ws, ROOT, 'model-link.bin'));
    expect(link.size).toBe(8);
  });

  it('never follows a symlink out of the asset folder', async () => {
    await writeFile(join(ws, 'secret.txt'), 'outside');
    await symlink('../../secret.txt', join(ws, ROOT, 'escape.txt'));
    const error = await resolveError(manifest());
    expect(error.path).toBe('escape.txt');
    expect(error.field).toBe('files[0]');
    expect(error.message).toMatch(/outside the asset folder/);
  });

  it('does not descend into a symlinked folder leaving the asset', async () => {
    await mkdir(join(ws, 'outside'));
    await writeFile(join(ws, 'outside/x.bin'), 'x');
    await symlink('../../outside', join(ws, ROOT, 'ext'));
    const error = await resolveError(manifest());
    expect(error.path).toBe('ext');
    expect(error.message).toMatch(/outside the asset folder/);
  });

  it('reports a dangling symlink', async () => {
    await symlink('nope.bin', join(ws, ROOT, 'dangling.bin'));
    expect((await resolveError(manifest())).message).toMatch(/"dangling.bin" is a symlink whose target does not exist/);
  });

  it.each([
    ['same path as a local file', 'vocab.txt', /collides with a local file/],
    ['a folder holding local files', 'weights', /collides with the local folder holding "weights\/model.bin"/],
    ['below a local file', 'vocab.txt/x', /below the local file "vocab.txt"/],
  ])('rejects a source at %s', async (_label, path, message) => {
    const error = await resolveError(
      manifest({
        sources: [
          { url: 'https://e.x/ok', sha256: 'a'.repeat(64), path: 'other.bin' },
          { url: 'https://e.x/a', sha256: 'a'.repeat(64), path },
        ],
      }),
    );
    expect(error.field).toBe('sources[1].path');
    expect(error.path).toBe(path);
    expect(error.message).toMatch(message);
  });
});
