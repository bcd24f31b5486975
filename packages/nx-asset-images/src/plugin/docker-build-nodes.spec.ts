import { describe, it, expect, afterEach } from 'vitest';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AggregateCreateNodesError, type CreateNodesContext } from '@nx/devkit';
import { createDockerBuildNode, createDockerBuildNodes, dockerBuildTargetName, globAssetManifests } from './docker-build-nodes';

let root: string | undefined;
afterEach(() => {
  if (root) rmSync(root, { recursive: true, force: true });
  root = undefined;
});

function workspace(files: Record<string, string>): CreateNodesContext {
  root = mkdtempSync(join(tmpdir(), 'dbn-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return { nxJsonConfiguration: {}, workspaceRoot: root };
}

const BASE = {
  'assets/bert/asset.json': '{"name":"models-bert","image":"localhost:5000/asset/bert"}',
  'assets/tok/asset.json': '{"image":"asset/tok"}',
  'node_modules/pkg/asset.json': '{"image":"asset/ignored"}',
  'apps/api/project.json': '{}',
  'apps/api/Dockerfile':
    'FROM node:20 AS build\nFROM node:20-slim\nCOPY --link --chown=1000:1000 --from=localhost:5000/asset/bert:0.1 / /a/\nCOPY --from=asset/tok --chmod=0444 / /t/\n',
  'apps/api/Dockerfile.prod': 'FROM asset/tok\n',
  'apps/web/package.json': '{}',
  'apps/web/Dockerfile': 'FROM node:20\n',
  'bare/Dockerfile': 'FROM asset/tok\n',
  'apps/api/sub/Dockerfile': 'FROM asset/tok\n',
};

describe('createDockerBuildNodes', () => {
  it('globs asset manifests outside node_modules', () => {
    const context = workspace(BASE);
    expect(globAssetManifests(context.workspaceRoot)).toEqual(['assets/bert/asset.json', 'assets/tok/asset.json']);
  });

  it('infers docker-build only on projects whose Dockerfile uses assets', async () => {
    const context = workspace(BASE);
    const files = ['apps/api/Dockerfile', 'apps/api/Dockerfile.prod', 'apps/web/Dockerfile', 'bare/Dockerfile', 'apps/api/sub/Dockerfile'];
    const results = await createDockerBuildNodes[1](files, {}, context);
    const byFile = Object.fromEntries(results);
    expect(byFile['apps/api/Dockerfile']).toEqual({
      projects: {
        'apps/api': {
          targets: {
            'docker-build': {
              executor: 'nx-asset-images:docker-build',
              dependsOn: [{ projects: ['assets-tok', 'models-bert'], target: 'asset-image' }],
              options: { dockerfile: 'apps/api/Dockerfile', context: 'apps/api' },
              cache: false,
              metadata: { description: expect.stringContaining('apps/api/Dockerfile'), technologies: ['docker'] },
            },
          },
        },
      },
    });
    expect(Object.keys(byFile['apps/api/Dockerfile.prod']!.projects!['apps/api']!.targets!)).toEqual(['docker-build-prod']);
    expect(byFile['apps/web/Dockerfile']).toEqual({});
    expect(byFile['bare/Dockerfile']).toEqual({});
    expect(byFile['apps/api/sub/Dockerfile']).toEqual({});
  });

  it('attaches to an existing target instead when attachToTarget is set', () => {
    const context = workspace(BASE);
    const result = createDockerBuildNode('apps/api/Dockerfile', { attachToTarget: 'docker:build', assetImageTargetName: 'img' }, context);
    expect(result).toEqual({
      projects: {
        'apps/api': { targets: { 'docker:build': { dependsOn: ['...', { projects: ['assets-tok', 'models-bert'], target: 'img' }] } } },
      },
    });
  });

  it('uses the asset manifests in the invocation file list when present', () => {
    const context = workspace(BASE);
    const result = createDockerBuildNode(
      'apps/api/Dockerfile',
      {},
      { ...context, configFiles: ['assets/tok/asset.json', 'apps/api/Dockerfile'] },
    );
    expect(result.projects!['apps/api']!.targets!['docker-build']!.dependsOn).toEqual([
      { projects: ['assets-tok'], target: 'asset-image' },
    ]);
  });

  it('turns a Dockerfile that cannot be read into a per-file error', async () => {
    const context = workspace({ ...BASE, 'apps/gone/project.json': '{}' });
    mkdirSync(join(context.workspaceRoot, 'apps/gone/Dockerfile'));
    const error = await Promise.resolve(createDockerBuildNodes[1](['apps/gone/Dockerfile', 'apps/api/Dockerfile'], {}, context)).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AggregateCreateNodesError);
    const aggregate = error as AggregateCreateNodesError;
    expect(aggregate.errors.map(([file]) => file)).toEqual(['apps/gone/Dockerfile']);
    expect(aggregate.partialResults.map(([file]) => file)).toEqual(['apps/api/Dockerfile']);
  });
});

describe('dockerBuildTargetName', () => {
  it.each<[string, string]>([
    ['Dockerfile', 'docker-build'],
    ['Dockerfile.prod', 'docker-build-prod'],
    ['api.Dockerfile', 'docker-build-api'],
    ['Dockerfile.Web_GPU', 'docker-build-web-gpu'],
  ])('%s -> %s', (file, expected) => {
    expect(dockerBuildTargetName(file, 'docker-build')).toBe(expected);
  });
});
