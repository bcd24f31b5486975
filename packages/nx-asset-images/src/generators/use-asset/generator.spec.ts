import { addProjectConfiguration, logger, type Tree } from '@nx/devkit';
import { createTreeWithEmptyWorkspace } from '@nx/devkit/testing';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AssetManifestError } from '../../errors/asset-errors';
import { UseAssetError, useAssetGenerator } from './generator';

describe('use-asset generator', () => {
  let tree: Tree;
  beforeEach(() => {
    tree = createTreeWithEmptyWorkspace();
    vi.spyOn(logger, 'info').mockImplementation(() => undefined);
    vi.spyOn(logger, 'warn').mockImplementation(() => undefined);
    addProjectConfiguration(tree, 'api', { root: 'apps/api' });
    tree.write(
      'assets/models/bert/asset.json',
      JSON.stringify({ name: 'models-bert', image: 'registry.example.com/asset/models-bert', tags: ['0.1', 'latest'] }),
    );
    tree.write('assets/tokenizer/asset.json', JSON.stringify({ image: 'registry.example.com/asset/tok', destination: '/tok' }));
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('adds COPY --from with the first tag to the final stage of the app Dockerfile', async () => {
    tree.write('apps/api/Dockerfile', 'FROM node:20 AS build\nRUN make\n\nFROM python:3.12-slim\nWORKDIR /app\nCOPY --from=build /out .\n');
    await useAssetGenerator(tree, { project: 'api', asset: 'models-bert' });
    expect(tree.read('apps/api/Dockerfile', 'utf-8')).toBe(
      'FROM node:20 AS build\nRUN make\n\nFROM python:3.12-slim\nCOPY --from=registry.example.com/asset/models-bert:0.1 / /assets/models-bert\nWORKDIR /app\nCOPY --from=build /out .\n',
    );
  });

  it('groups a second asset after the first, from its destination, with a default name from the folder', async () => {
    tree.write('apps/api/Dockerfile', 'FROM python:3.12-slim\r\nRUN x\r\n');
    await useAssetGenerator(tree, { project: 'api', asset: 'models-bert', skipFormat: true });
    await useAssetGenerator(tree, { project: 'api', asset: 'assets-tokenizer', destination: '/srv/tok', skipFormat: true });
    expect(tree.read('apps/api/Dockerfile', 'utf-8')).toBe(
      'FROM python:3.12-slim\r\n' +
        'COPY --from=registry.example.com/asset/models-bert:0.1 / /assets/models-bert\r\n' +
        'COPY --from=registry.example.com/asset/tok:latest /tok /srv/tok\r\n' +
        'RUN x\r\n',
    );
  });

  it('creates a Dockerfile with a BASE_IMAGE build argument when the app has none', async () => {
    await useAssetGenerator(tree, { project: 'api', asset: 'models-bert', skipFormat: true });
    expect(tree.read('apps/api/Dockerfile', 'utf-8')).toBe(
      '# The runtime of the app: change the default, or pass --build-arg BASE_IMAGE\n' +
        'ARG BASE_IMAGE=python:3.12-slim\n' +
        'FROM ${BASE_IMAGE}\n' +
        'COPY --from=registry.example.com/asset/models-bert:0.1 / /assets/models-bert\n',
    );
  });

  it('writes to --dockerfile', async () => {
    tree.write('apps/api/docker/serve.Dockerfile', 'FROM x\n');
    await useAssetGenerator(tree, { project: 'api', asset: 'models-bert', dockerfile: 'docker/serve.Dockerfile', skipFormat: true });
    expect(tree.read('apps/api/docker/serve.Dockerfile', 'utf-8')).toBe(
      'FROM x\nCOPY --from=registry.example.com/asset/models-bert:0.1 / /assets/models-bert\n',
    );
    expect(tree.exists('apps/api/Dockerfile')).toBe(false);
  });

  it('is idempotent: a second run changes nothing', async () => {
    tree.write('apps/api/Dockerfile', 'FROM python:3.12-slim\n');
    await useAssetGenerator(tree, { project: 'api', asset: 'models-bert', skipFormat: true });
    const once = tree.read('apps/api/Dockerfile', 'utf-8');
    await useAssetGenerator(tree, { project: 'api', asset: 'models-bert', skipFormat: true });
    expect(tree.read('apps/api/Dockerfile', 'utf-8')).toBe(once);
    expect(logger.info).toHaveBeenLastCalledWith(
      'apps/api/Dockerfile:2 already copies from registry.example.com/asset/models-bert:0.1; nothing to do.',
    );
  });

  it('reports an existing line with another tag and does not add a second one', async () => {
    const text = 'FROM python:3.12-slim\nCOPY --from=registry.example.com/asset/models-bert:0.0.9 / /models\n';
    tree.write('apps/api/Dockerfile', text);
    await useAssetGenerator(tree, { project: 'api', asset: 'models-bert', skipFormat: true });
    expect(tree.read('apps/api/Dockerfile', 'utf-8')).toBe(text);
    expect(logger.warn).toHaveBeenCalledWith(
      expect.stringContaining(
        'apps/api/Dockerfile:2 already copies from registry.example.com/asset/models-bert:0.0.9, not registry.example.com/asset/models-bert:0.1',
      ),
    );
  });

  it.each<[string, { project: string; asset: string; destination?: string; dockerfile?: string }, string, RegExp]>([
    ['an unknown app', { project: 'nope', asset: 'models-bert' }, 'project', /Cannot find project "nope"/],
    ['an asset as the app', { project: 'models-bert', asset: 'assets-tokenizer' }, 'project', /"models-bert" is an asset project/],
    [
      'an unknown asset',
      { project: 'api', asset: 'nope' },
      'asset',
      /Cannot find asset project "nope". Asset projects: assets-tokenizer, models-bert\./,
    ],
    [
      'a project that is not an asset',
      { project: 'api', asset: 'api' },
      'asset',
      /Project "api" is not an asset project: apps\/api\/asset.json does not exist/,
    ],
    ['a relative destination', { project: 'api', asset: 'models-bert', destination: 'assets/x' }, 'destination', /absolute directory/],
    [
      'a Dockerfile outside the project',
      { project: 'api', asset: 'models-bert', dockerfile: '../x/Dockerfile' },
      'dockerfile',
      /inside the project/,
    ],
  ])('rejects %s without writing', async (_label, options, option, message) => {
    const before = tree.listChanges().length;
    const error = await useAssetGenerator(tree, { ...options, skipFormat: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UseAssetError);
    expect((error as UseAssetError).option).toBe(option);
    expect((error as Error).message).toMatch(message);
    expect(tree.listChanges().length).toBe(before);
  });

  it('names the file and field of a bad asset.json', async () => {
    tree.write('assets/broken/asset.json', JSON.stringify({ name: 'broken', image: 'Not An Image' }));
    const error = await useAssetGenerator(tree, { project: 'api', asset: 'broken', skipFormat: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AssetManifestError);
    expect((error as AssetManifestError).file).toBe('assets/broken/asset.json');
    expect((error as AssetManifestError).field).toBe('image');
    expect(tree.exists('apps/api/Dockerfile')).toBe(false);
  });
});
