import { addProjectConfiguration, logger, readJson, writeJson, type Tree } from '@nx/devkit';
import { createTreeWithEmptyWorkspace } from '@nx/devkit/testing';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AssetConflictError, assetGenerator } from './generator';
import { InvalidAssetOptionError } from './asset-options';
import { OptionTextLostError } from '../../nx/option-text';
import type { AssetGeneratorSchema } from './schema';
import { parseAssetManifest } from '../../manifest/manifest';

const SHA = 'a'.repeat(64);
const base: AssetGeneratorSchema = {
  name: 'models-bert',
  directory: 'assets/models/bert',
  image: 'registry.example.com/asset/models-bert',
  skipFormat: true,
};

describe('asset generator', () => {
  let tree: Tree;
  beforeEach(() => {
    tree = createTreeWithEmptyWorkspace();
    vi.spyOn(logger, 'info').mockImplementation(() => undefined);
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('writes asset.json with $schema and README.md', async () => {
    await assetGenerator(tree, { ...base, skipFormat: false });

    expect(tree.read('assets/models/bert/asset.json', 'utf-8')).toBe(
      `{
  "$schema": "../../../node_modules/nx-asset-images/asset.schema.json",
  "name": "models-bert",
  "image": "registry.example.com/asset/models-bert",
  "tags": [
    "latest"
  ]
}
`,
    );
    expect(tree.read('assets/models/bert/README.md', 'utf-8')).toBe(`# models-bert

An asset image built by [nx-asset-images](https://www.npmjs.com/package/nx-asset-images): the files in this
folder (all but \`asset.json\`, \`asset.lock.json\` and this README, see \`files\` and \`exclude\` in
\`asset.json\`) become a \`FROM scratch\` OCI image, \`registry.example.com/asset/models-bert\`.

\`asset.lock.json\` pins the sha256 of the local files. Nx keeps it up to date (sync generator
\`nx-asset-images:lock\`); commit it together with the files, and run \`nx sync:check\` in CI.

## Build and push

\`\`\`sh
nx run models-bert:asset-image   # build the image (cached by content)
nx run models-bert:asset-push    # push it to registry.example.com/asset/models-bert
\`\`\`

## Use it in an app image

\`\`\`dockerfile
COPY --from=registry.example.com/asset/models-bert:latest / /assets/models-bert
\`\`\`

or let Nx add that line: \`nx g nx-asset-images:use-asset --project=<app> --asset=models-bert\`.
The app then depends on this asset in the project graph, and \`nx affected\` follows changes of the files.
`);
    expect(tree.exists('assets/models/bert/.gitignore')).toBe(false);
    // What the plugin reads back: a valid manifest.
    const parsed = parseAssetManifest(
      tree.read('assets/models/bert/asset.json', 'utf-8')!,
      'assets/models/bert/asset.json',
      'assets/models/bert',
    );
    expect(parsed).toMatchObject({ name: 'models-bert', tags: ['latest'], destination: '/' });
    expect(
      tree
        .listChanges()
        .map((c) => c.path)
        .filter((p) => p.startsWith('assets/'))
        .sort(),
    ).toEqual(['assets/models/bert/README.md', 'assets/models/bert/asset.json']);
  });

  it('pins a remote source, takes tags and defaults the directory to assets/<name>', async () => {
    await assetGenerator(tree, {
      name: 'tokenizer',
      image: 'localhost:5000/asset/tokenizer',
      tags: '0.1, latest,0.1',
      source: 'https://example.com/files/tokenizer.json',
      sha256: `sha256:${'AB'.repeat(32)}`,
      path: './tokenizer.json',
      skipFormat: true,
    });

    expect(readJson(tree, 'assets/tokenizer/asset.json')).toEqual({
      $schema: '../../node_modules/nx-asset-images/asset.schema.json',
      name: 'tokenizer',
      image: 'localhost:5000/asset/tokenizer',
      tags: ['0.1', 'latest'],
      sources: [{ url: 'https://example.com/files/tokenizer.json', sha256: 'ab'.repeat(32), path: 'tokenizer.json' }],
    });
    expect(parseAssetManifest(tree.read('assets/tokenizer/asset.json', 'utf-8')!, 'asset.json', 'assets/tokenizer').sources).toHaveLength(
      1,
    );
    const readme = tree.read('assets/tokenizer/README.md', 'utf-8')!;
    expect(readme).toContain('- `tokenizer.json` from https://example.com/files/tokenizer.json\n');
    expect(readme).toContain('COPY --from=localhost:5000/asset/tokenizer:0.1 / /assets/tokenizer\n');
  });

  it('uses the target names configured in the plugin options', async () => {
    writeJson(tree, 'nx.json', {
      plugins: [{ plugin: 'nx-asset-images', options: { assetImageTargetName: 'image', assetPushTargetName: 'push' } }],
    });
    await assetGenerator(tree, base);
    const readme = tree.read('assets/models/bert/README.md', 'utf-8')!;
    expect(readme).toContain('nx run models-bert:image   #');
    expect(readme).toContain('nx run models-bert:push    #');
  });

  it('with --gitignoreLargeFiles writes a .gitignore for weights and excludes it from the image', async () => {
    await assetGenerator(tree, { ...base, gitignoreLargeFiles: true });
    expect(tree.read('assets/models/bert/.gitignore', 'utf-8')).toBe(
      [
        '# Large weight files stay out of git: nx-asset-images hashes them itself and pins their sha256 in asset.lock.json (commit that file).',
        '*.bin',
        '*.safetensors',
        '*.gguf',
        '*.onnx',
        '*.pt',
        '*.pth',
        '*.ckpt',
        '*.h5',
        '*.msgpack',
        '!asset.json',
        '!asset.lock.json',
        '!README.md',
        '',
      ].join('\n'),
    );
    expect(readJson(tree, 'assets/models/bert/asset.json').exclude).toEqual(['.gitignore']);
    expect(parseAssetManifest(tree.read('assets/models/bert/asset.json', 'utf-8')!, 'asset.json', 'assets/models/bert').exclude).toEqual([
      '.gitignore',
    ]);
  });

  it('merges into an existing .gitignore and keeps an existing README.md', async () => {
    tree.write('assets/models/bert/.gitignore', '*.bin\n');
    tree.write('assets/models/bert/README.md', 'model card\n');
    await assetGenerator(tree, { ...base, gitignoreLargeFiles: true });
    const gitignore = tree.read('assets/models/bert/.gitignore', 'utf-8')!;
    expect(gitignore.startsWith('*.bin\n\n# Large weight files')).toBe(true);
    expect(gitignore.match(/^\*\.bin$/gm)).toHaveLength(1);
    expect(tree.read('assets/models/bert/README.md', 'utf-8')).toBe('model card\n');
  });

  it('refuses to overwrite an existing asset.json, naming the file', async () => {
    tree.write('assets/models/bert/asset.json', '{"image":"x/y"}');
    const error = await assetGenerator(tree, base).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AssetConflictError);
    expect((error as AssetConflictError).path).toBe('assets/models/bert/asset.json');
    expect((error as Error).message).toContain('assets/models/bert/asset.json already exists');
    expect(tree.read('assets/models/bert/asset.json', 'utf-8')).toBe('{"image":"x/y"}');
    expect(tree.exists('assets/models/bert/README.md')).toBe(false);
  });

  it('refuses a name another asset or project already has', async () => {
    tree.write('assets/other/asset.json', '{"name":"models-bert","image":"x/y"}');
    await expect(assetGenerator(tree, base)).rejects.toThrow('An asset named "models-bert" already exists (assets/other/asset.json)');

    addProjectConfiguration(tree, 'app', { root: 'apps/app' });
    await expect(assetGenerator(tree, { ...base, name: 'app' })).rejects.toThrow('A project named "app" already exists');
    await expect(assetGenerator(tree, { ...base, name: 'x', directory: 'apps/app' })).rejects.toThrow(
      'apps/app is already the root of project "app"',
    );
  });

  it('never stores a number as a tag: a number the command line does not show is refused, a tag array with a number too', async () => {
    // process.argv here is vitest's: no --tags on it.
    await expect(assetGenerator(tree, { ...base, tags: 1 as unknown as string })).rejects.toThrow(OptionTextLostError);
    await expect(assetGenerator(tree, { ...base, tags: ['latest', 1] as unknown as string[] })).rejects.toThrow(OptionTextLostError);
    expect(tree.exists('assets/models/bert/asset.json')).toBe(false);
  });

  it('is repeatable only by refusing: a second run writes nothing', async () => {
    await assetGenerator(tree, base);
    const before = tree.read('assets/models/bert/asset.json', 'utf-8');
    await expect(assetGenerator(tree, base)).rejects.toBeInstanceOf(AssetConflictError);
    expect(tree.read('assets/models/bert/asset.json', 'utf-8')).toBe(before);
  });

  it.each<[string, Partial<AssetGeneratorSchema>, string, RegExp]>([
    ['an image with a tag', { image: 'registry.example.com/asset/bert:0.1' }, 'image', /without a tag; put tags in --tags/],
    ['an uppercase image', { image: 'registry.example.com/Asset/bert' }, 'image', /must be lowercase/],
    ['an image with spaces', { image: 'asset/ bert' }, 'image', /whitespace/],
    ['an empty image', { image: '' }, 'image', /is required/],
    ['a bad tag', { tags: 'ok,-bad' }, 'tags', /not a valid tag/],
    ['a short sha256', { source: 'https://e.com/m.bin', sha256: 'abc', path: 'm.bin' }, 'sha256', /64 hexadecimal/],
    ['a non-hex sha256', { source: 'https://e.com/m.bin', sha256: 'g'.repeat(64), path: 'm.bin' }, 'sha256', /64 hexadecimal/],
    ['--source alone', { source: 'https://e.com/m.bin' }, 'sha256', /go together \(missing: --sha256, --path\)/],
    ['--sha256 without --path', { source: 'https://e.com/m.bin', sha256: SHA }, 'path', /missing: --path\)/],
    ['--path and --sha256 without --source', { sha256: SHA, path: 'm.bin' }, 'source', /missing: --source\)/],
    [
      'a source URL with credentials',
      { source: 'https://user:secret@e.com/m.bin', sha256: SHA, path: 'm.bin' },
      'source',
      /^(?!.*secret).*credentials/,
    ],
    ['a non-URL source', { source: 'not a url', sha256: SHA, path: 'm.bin' }, 'source', /not a URL/],
    ['an ftp source', { source: 'ftp://e.com/m.bin', sha256: SHA, path: 'm.bin' }, 'source', /http and https/],
    ['a path outside the folder', { source: 'https://e.com/m.bin', sha256: SHA, path: '../m.bin' }, 'path', /\.\./],
    ['a path on asset.json', { source: 'https://e.com/m.bin', sha256: SHA, path: 'asset.json' }, 'path', /own file/],
    ['an absolute directory', { directory: '/tmp/x' }, 'directory', /not absolute/],
    ['a directory with ..', { directory: 'assets/../../x' }, 'directory', /\.\./],
    ['a name with a space', { name: 'my model' }, 'name', /project name/],
  ])('rejects %s before writing anything', async (_label, override, option, message) => {
    const before = tree.listChanges().length;
    const error = await assetGenerator(tree, { ...base, ...override }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidAssetOptionError);
    expect((error as InvalidAssetOptionError).option).toBe(option);
    expect((error as Error).message).toMatch(message);
    expect(tree.listChanges().length).toBe(before);
  });
});
