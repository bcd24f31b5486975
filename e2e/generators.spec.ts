// The generators end to end: real nx, a real temp workspace, the built plugin
// (packages/nx-asset-images/dist). init -> asset -> use-asset, then what Nx
// infers from the result (targets, graph edge).
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docker, dockerRunRm } from './support/docker';
import { createWorkspace, git, runNx, type Workspace } from './support/workspace';

const SHA = 'c'.repeat(64);
const APP_DOCKERFILE = 'FROM python:3.12-slim\nWORKDIR /app\nCOPY app.py .\n';

describe('generators', () => {
  let ws: Workspace;

  beforeAll(async () => {
    ws = await createWorkspace({
      // A workspace that does not use the plugin yet: init registers it.
      'nx.json': `${JSON.stringify({ sync: { disabledTaskSyncGenerators: [] } }, null, 2)}\n`,
      '.gitignore': 'dist\n',
      'apps/api/project.json': `${JSON.stringify({ name: 'api', root: 'apps/api' }, null, 2)}\n`,
      'apps/api/Dockerfile': APP_DOCKERFILE,
      'apps/api/app.py': 'print("hi")\n',
    });
  });
  afterAll(async () => {
    await ws?.dispose();
  });

  it('init registers the plugin and the lock sync generator, gitignores the outputs, and is idempotent', async () => {
    const first = await runNx(ws, ['g', 'nx-asset-images:init']);
    expect(first.stdout).toContain('nx sync:check');

    const nxJson = JSON.parse(await ws.read('nx.json')) as Record<string, unknown>;
    expect(nxJson['plugins']).toEqual([{ plugin: 'nx-asset-images', options: {} }]);
    expect(nxJson['sync']).toMatchObject({ globalGenerators: ['nx-asset-images:lock'] });
    expect(nxJson['sync']).not.toHaveProperty('applyChanges');
    const gitignore = await ws.read('.gitignore');
    expect(gitignore.split('\n').filter((l) => l === 'dist')).toHaveLength(1);
    expect(gitignore.split('\n')).toContain('.asset-images');

    const before = { nxJson: await ws.read('nx.json'), gitignore };
    await runNx(ws, ['g', 'nx-asset-images:init']);
    expect(await ws.read('nx.json')).toBe(before.nxJson);
    expect(await ws.read('.gitignore')).toBe(before.gitignore);
  });

  it('asset --dry-run lists the files and writes nothing', async () => {
    const res = await runNx(ws, [
      'g',
      'nx-asset-images:asset',
      'models-bert',
      '--directory=assets/models/bert',
      '--image=registry.example.com/asset/models-bert',
      '--gitignoreLargeFiles',
      '--dry-run',
    ]);
    expect(res.stdout).toContain('CREATE assets/models/bert/asset.json');
    expect(res.stdout).toContain('CREATE assets/models/bert/README.md');
    expect(res.stdout).toContain('CREATE assets/models/bert/.gitignore');
    expect(existsSync(ws.path('assets'))).toBe(false);
  });

  it('asset rejects a bad checksum and a partial --source set before writing anything', async () => {
    const badSha = await runNx(
      ws,
      [
        'g',
        'nx-asset-images:asset',
        'tok',
        '--image=registry.example.com/asset/tok',
        '--source=https://example.com/t.json',
        '--sha256=abc',
        '--path=t.json',
      ],
      { reject: false },
    );
    expect(badSha.exitCode).not.toBe(0);
    expect(badSha.stdout + badSha.stderr).toContain('Invalid --sha256 "abc"');

    const partial = await runNx(ws, ['g', 'nx-asset-images:asset', 'tok', '--image=registry.example.com/asset/tok', `--sha256=${SHA}`], {
      reject: false,
    });
    expect(partial.exitCode).not.toBe(0);
    expect(partial.stdout + partial.stderr).toMatch(/--source, --sha256 and --path go together \(missing: --source, --path\)/);

    const badImage = await runNx(ws, ['g', 'nx-asset-images:asset', 'tok', '--image=Registry Example/x'], { reject: false });
    expect(badImage.exitCode).not.toBe(0);
    expect(badImage.stdout + badImage.stderr).toContain('Invalid --image');

    expect(existsSync(ws.path('assets'))).toBe(false);
  });

  it('asset creates the project; Nx infers asset-image and asset-push for it', async () => {
    await runNx(ws, [
      'g',
      'nx-asset-images:asset',
      'models-bert',
      '--directory=assets/models/bert',
      '--image=registry.example.com/asset/models-bert',
      '--tags=0.1,latest',
      '--gitignoreLargeFiles',
    ]);
    const manifest = JSON.parse(await ws.read('assets/models/bert/asset.json')) as Record<string, unknown>;
    expect(manifest).toEqual({
      $schema: '../../../node_modules/nx-asset-images/asset.schema.json',
      name: 'models-bert',
      image: 'registry.example.com/asset/models-bert',
      tags: ['0.1', 'latest'],
      exclude: ['.gitignore'],
    });
    // The $schema path resolves from the asset folder.
    expect(existsSync(ws.path('assets/models/bert', manifest['$schema'] as string))).toBe(true);
    expect(await ws.read('assets/models/bert/README.md')).toContain(
      'COPY --from=registry.example.com/asset/models-bert:0.1 / /assets/models-bert',
    );

    // Weights are gitignored, the asset's own files are not.
    await ws.write('assets/models/bert/model.safetensors', 'weights');
    await ws.write('assets/models/bert/vocab.txt', 'hello\n');
    const ignored = await git(ws, 'status', '--porcelain', '--untracked-files=all', 'assets');
    expect(ignored.stdout).not.toContain('model.safetensors');
    expect(ignored.stdout).toContain('assets/models/bert/asset.json');
    expect(ignored.stdout).toContain('assets/models/bert/vocab.txt');

    const shown = await runNx(ws, ['show', 'project', 'models-bert', '--json']);
    const project = JSON.parse(shown.stdout) as { root: string; targets: Record<string, { dependsOn?: unknown[] }> };
    expect(project.root).toBe('assets/models/bert');
    expect(Object.keys(project.targets)).toEqual(expect.arrayContaining(['asset-image', 'asset-push']));
  });

  it('asset refuses to overwrite an existing asset.json and names it', async () => {
    const before = await ws.read('assets/models/bert/asset.json');
    const res = await runNx(
      ws,
      ['g', 'nx-asset-images:asset', 'other', '--directory=assets/models/bert', '--image=registry.example.com/asset/other'],
      {
        reject: false,
      },
    );
    expect(res.exitCode).not.toBe(0);
    expect(res.stdout + res.stderr).toContain('assets/models/bert/asset.json already exists');
    expect(await ws.read('assets/models/bert/asset.json')).toBe(before);
  });

  it('use-asset adds COPY --from to the app Dockerfile, is idempotent, and Nx draws the app -> asset edge', async () => {
    await runNx(ws, ['g', 'nx-asset-images:use-asset', '--project=api', '--asset=models-bert']);
    const dockerfile = await ws.read('apps/api/Dockerfile');
    expect(dockerfile).toBe(
      'FROM python:3.12-slim\nCOPY --from=registry.example.com/asset/models-bert:0.1 / /assets/models-bert\nWORKDIR /app\nCOPY app.py .\n',
    );

    const again = await runNx(ws, ['g', 'nx-asset-images:use-asset', '--project=api', '--asset=models-bert']);
    expect(again.stdout).toContain('already copies from registry.example.com/asset/models-bert:0.1');
    expect(await ws.read('apps/api/Dockerfile')).toBe(dockerfile);

    await runNx(ws, ['graph', '--file=graph.json']);
    const graph = JSON.parse(await ws.read('graph.json')) as {
      graph: { dependencies: Record<string, { source: string; target: string; type: string }[]> };
    };
    expect(graph.graph.dependencies['api']).toEqual(
      expect.arrayContaining([expect.objectContaining({ source: 'api', target: 'models-bert', type: 'static' })]),
    );
  });

  it('use-asset rejects an unknown project and a project that is not an asset', async () => {
    const unknown = await runNx(ws, ['g', 'nx-asset-images:use-asset', '--project=nope', '--asset=models-bert'], { reject: false });
    expect(unknown.exitCode).not.toBe(0);
    expect(unknown.stdout + unknown.stderr).toContain('Cannot find project "nope"');

    const notAsset = await runNx(ws, ['g', 'nx-asset-images:use-asset', '--project=api', '--asset=api'], { reject: false });
    expect(notAsset.exitCode).not.toBe(0);
    expect(notAsset.stdout + notAsset.stderr).toContain('Project "api" is not an asset project');
  });

  it('docker-build of the app made by use-asset builds the asset, then the app, with the asset copied in', async () => {
    // Nothing can be pulled in tests: the app's base image becomes the local busybox.
    await ws.write('apps/api/Dockerfile', (await ws.read('apps/api/Dockerfile')).replaceAll('python:3.12-slim', 'busybox'));

    const tag = `nxai-e2e/generated-api-${process.pid}:latest`;
    try {
      const res = await runNx(ws, ['run', 'api:docker-build', '--network=host', `--tags=${tag}`]);
      const out = res.stdout + res.stderr;
      expect(out.indexOf('nx run models-bert:asset-image')).toBeGreaterThanOrEqual(0);
      expect(out.indexOf('nx run api:docker-build')).toBeGreaterThan(out.indexOf('nx run models-bert:asset-image'));
      const files = await dockerRunRm(tag, [
        'cat',
        '/assets/models-bert/vocab.txt',
        '/assets/models-bert/model.safetensors',
        '/app/app.py',
      ]);
      expect(files.stdout).toBe('hello\nweightsprint("hi")\n');
    } finally {
      await docker(['rmi', '-f', tag, 'registry.example.com/asset/models-bert:0.1'], { reject: false }).catch(() => undefined);
    }
  });
});
