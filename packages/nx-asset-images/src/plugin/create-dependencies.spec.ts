import { describe, it, expect, afterEach } from 'vitest';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DependencyType, type CreateDependenciesContext, type ProjectConfiguration } from '@nx/devkit';
import { assetDependencies, createDependencies } from './create-dependencies';
import { findAssetImagesInWorkspace } from '../nx/asset-images-in-workspace';

let root: string | undefined;
afterEach(() => {
  if (root) rmSync(root, { recursive: true, force: true });
  root = undefined;
});

function workspace(files: Record<string, string>, projects: Record<string, string>): CreateDependenciesContext {
  root = mkdtempSync(join(tmpdir(), 'cdeps-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  const configs: Record<string, ProjectConfiguration> = {};
  const projectFileMap: Record<string, { file: string; hash: string }[]> = {};
  for (const [name, projectRoot] of Object.entries(projects)) {
    configs[name] = { name, root: projectRoot };
    projectFileMap[name] = Object.keys(files)
      .filter((f) => f.startsWith(`${projectRoot}/`))
      .map((file) => ({ file, hash: `${file}:${files[file]!.length}:${Math.random()}` }));
  }
  return {
    externalNodes: {},
    projects: configs,
    nxJsonConfiguration: {},
    fileMap: { projectFileMap, nonProjectFiles: [] },
    filesToProcess: { projectFileMap: {}, nonProjectFiles: [] },
    workspaceRoot: root,
  };
}

const ASSETS = {
  'assets/bert/asset.json': '{"name":"models-bert","image":"registry.example.com/asset/models-bert"}',
  'assets/tok/asset.json': '{"image":"asset/tok"}',
  'assets/local/asset.json': '{"image":"localhost:5000/asset/local"}',
};
const ASSET_PROJECTS = { 'models-bert': 'assets/bert', 'assets-tok': 'assets/tok', 'assets-local': 'assets/local' };

describe('createDependencies', () => {
  it('adds static edges app -> asset from every Dockerfile kind, deduplicated, without stages or self-edges', async () => {
    const context = workspace(
      {
        ...ASSETS,
        'apps/api/Dockerfile': [
          'ARG REG=registry.example.com',
          'FROM node:20 AS build',
          'FROM node:20-slim',
          'ARG REG',
          'COPY --from=${REG}/asset/models-bert:0.1 / /assets/bert/',
          'COPY --link --from=registry.example.com/asset/models-bert:0.2 --chown=1:1 / /assets/bert2/',
          'COPY --from=build /app /app',
          'RUN --network=none --mount=type=bind,from=docker.io/asset/tok,target=/tok true',
        ].join('\n'),
        'apps/api/docker/prod.Dockerfile': 'FROM localhost:5000/asset/local:latest AS assets\nFROM scratch\nCOPY --from=assets / /\n',
        // only a COPY with other flags beside --from names the asset: still an edge
        'apps/flags/Dockerfile':
          'FROM scratch\nCOPY --chmod=0444 \\\n  --link --from=localhost:5000/asset/local:1 / /m/\nADD --link --chown=1:1 localhost:5000/asset/local /x\n',
        'apps/web/Dockerfile.dev': 'FROM index.docker.io/asset/tok@sha256:' + 'c'.repeat(64) + '\n',
        'apps/web/Dockerfile.dockerignore': 'FROM asset/tok\n',
        'apps/web/notes.txt': 'COPY --from=asset/tok / /',
        'apps/other/Dockerfile': 'FROM localhost:5001/asset/local\nCOPY --from=asset/unknown / /\n',
        // an asset whose own Dockerfile references itself: no self-edge
        'assets/tok/Dockerfile': 'FROM asset/tok\n',
      },
      { ...ASSET_PROJECTS, api: 'apps/api', web: 'apps/web', other: 'apps/other', flags: 'apps/flags' },
    );
    const deps = await createDependencies({}, context);
    expect(deps).toEqual([
      { source: 'api', target: 'models-bert', type: DependencyType.static, sourceFile: 'apps/api/Dockerfile' },
      { source: 'api', target: 'assets-tok', type: DependencyType.static, sourceFile: 'apps/api/Dockerfile' },
      { source: 'api', target: 'assets-local', type: DependencyType.static, sourceFile: 'apps/api/docker/prod.Dockerfile' },
      { source: 'flags', target: 'assets-local', type: DependencyType.static, sourceFile: 'apps/flags/Dockerfile' },
      { source: 'web', target: 'assets-tok', type: DependencyType.static, sourceFile: 'apps/web/Dockerfile.dev' },
    ]);
  });

  it('returns nothing when there are no assets', async () => {
    const context = workspace({ 'apps/api/Dockerfile': 'FROM asset/tok\n' }, { api: 'apps/api' });
    expect(await createDependencies(undefined, context)).toEqual([]);
  });

  it('warns about an unreadable Dockerfile and still builds the other edges', () => {
    const context = workspace(
      { ...ASSETS, 'apps/api/Dockerfile': 'FROM asset/tok\n', 'apps/web/Dockerfile': 'FROM asset/tok\n' },
      { ...ASSET_PROJECTS, api: 'apps/api', web: 'apps/web' },
    );
    // A Dockerfile Nx knows about but that vanished (or is a directory) from disk.
    rmSync(join(context.workspaceRoot, 'apps/api/Dockerfile'));
    mkdirSync(join(context.workspaceRoot, 'apps/api/Dockerfile'));
    const warnings: string[] = [];
    const deps = assetDependencies(context, findAssetImagesInWorkspace(context.projects, context.workspaceRoot), (m) => warnings.push(m));
    expect(deps.map((d) => [d.source, d.target])).toEqual([['web', 'assets-tok']]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('apps/api/Dockerfile');
  });

  it('skips a broken asset.json and keeps the others', () => {
    const context = workspace(
      { ...ASSETS, 'assets/tok/asset.json': '{', 'apps/api/Dockerfile': 'FROM asset/tok\nCOPY --from=localhost:5000/asset/local / /\n' },
      { ...ASSET_PROJECTS, api: 'apps/api' },
    );
    const warnings: string[] = [];
    const deps = assetDependencies(
      context,
      findAssetImagesInWorkspace(context.projects, context.workspaceRoot, (m) => warnings.push(m)),
      (m) => warnings.push(m),
    );
    expect(deps.map((d) => d.target)).toEqual(['assets-local']);
    expect(warnings.join('\n')).toContain('assets/tok/asset.json');
  });
});
