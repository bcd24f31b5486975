// The packed plugin, as users get it (`npm pack`), installed with plain
// `npm i` (no --legacy-peer-deps, no --force) into fresh Nx 22 and Nx 23
// workspaces, then used: build an asset, draw the app -> asset edge, build
// the app with the asset's bytes in it. On Nx 23 also with @nx/docker's
// inferred `docker:build` and `attachToTarget`. (Nx 24 is the repository's
// own line: every other e2e file runs on it.)
//
// No network but 127.0.0.1 in tests: `npm i --offline` takes the packages from
// npm's cache, which tools/prepare-nx-versions.mjs fills (`npm test` runs it).
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docker, dockerRunRm } from './support/docker';
import { npmInstallOffline, packPlugin, type PackedPlugin } from './support/packed-plugin';
import { createWorkspace, repoRoot, runNx, type Workspace } from './support/workspace';
import { readResult } from './support/asset-image-result';

interface NxLine {
  name: string;
  packages: Record<string, string>;
}

const { lines } = JSON.parse(readFileSync(path.join(repoRoot, 'tools', 'nx-versions.json'), 'utf8')) as { lines: NxLine[] };
const WEIGHT = Buffer.from(Array.from({ length: 200_000 }, (_, i) => (i * 7919 + 13) % 251));
const WEIGHT_SHA = createHash('sha256').update(WEIGHT).digest('hex');

let packed: PackedPlugin;

beforeAll(async () => {
  packed = await packPlugin();
});
afterAll(async () => {
  await packed?.dispose();
});

const npmInstall = (ws: Workspace, line: NxLine): Promise<void> => npmInstallOffline(ws, line.packages, [packed.tarball]);

function assetFiles(image: string): Record<string, string | Buffer> {
  return {
    'assets/m/asset.json': `${JSON.stringify({ name: 'm', image, tags: ['0.1'] }, null, 2)}\n`,
    'assets/m/weights.bin': WEIGHT,
    'assets/m/vocab.txt': 'hello\nworld\n',
    'apps/app/project.json': `${JSON.stringify({ name: 'app', root: 'apps/app' }, null, 2)}\n`,
    'apps/app/Dockerfile': `FROM busybox\nCOPY --from=${image}:0.1 / /assets/m/\n`,
  };
}

async function expectEdge(ws: Workspace): Promise<void> {
  await runNx(ws, ['graph', '--file=graph.json']);
  const graph = JSON.parse(await ws.read('graph.json')) as { graph: { dependencies: Record<string, { target: string; type: string }[]> } };
  expect(graph.graph.dependencies['app']).toEqual([expect.objectContaining({ target: 'm', type: 'static' })]);
}

async function expectWeightsIn(appImage: string): Promise<void> {
  const sum = await dockerRunRm(appImage, ['sha256sum', '/assets/m/weights.bin']);
  expect(sum.stdout.split(/\s+/)[0]).toBe(WEIGHT_SHA);
}

const byName = (name: string): NxLine => {
  const line = lines.find((l) => l.name === name);
  if (!line) throw new Error(`tools/nx-versions.json has no line "${name}"`);
  return line;
};

describe.each(['nx22', 'nx23'])('packed plugin in a fresh %s workspace', (name) => {
  const line = byName(name);
  let ws: Workspace;
  const image = `localhost:5000/asset/nxver-${name}`;
  const appTag = 'app:latest'; // docker-build's default tag: <project>:latest

  beforeAll(async () => {
    ws = await createWorkspace(
      { ...assetFiles(image), 'nx.json': `${JSON.stringify({ plugins: [{ plugin: 'nx-asset-images', options: {} }] }, null, 2)}\n` },
      { linkNodeModules: false },
    );
    await npmInstall(ws, line);
  });
  afterAll(async () => {
    await ws?.dispose();
    await docker(['rmi', '-f', appTag], { reject: false });
  });

  it('builds the asset, draws the app -> asset edge and builds the app with the weights inside', async () => {
    const build = await runNx(ws, ['run', 'm:asset-image']);
    expect(build.stdout).toMatch(/sha256:[0-9a-f]{64}/);
    const result = readResult(ws, 'm');
    expect(result.references).toContain(`${image}:0.1`);

    await expectEdge(ws);

    await docker(['rmi', '-f', appTag], { reject: false });
    await runNx(ws, ['run', 'app:docker-build']);
    await expectWeightsIn(appTag);
  });
});

describe('packed plugin in a fresh nx23 workspace with @nx/docker and attachToTarget', () => {
  const line = byName('nx23');
  let ws: Workspace;
  const image = 'localhost:5000/asset/nxver-nx23-docker';

  beforeAll(async () => {
    expect(line.packages['@nx/docker']).toBeDefined();
    ws = await createWorkspace(
      {
        ...assetFiles(image),
        'nx.json': `${JSON.stringify({ plugins: ['@nx/docker', { plugin: 'nx-asset-images', options: { attachToTarget: 'docker:build' } }] }, null, 2)}\n`,
      },
      { linkNodeModules: false },
    );
    await npmInstall(ws, line);
  });
  afterAll(async () => {
    await ws?.dispose();
    await docker(['rmi', '-f', 'apps-app'], { reject: false });
  });

  it("@nx/docker's docker:build depends on the asset's asset-image (no docker-build inferred) and the app gets the weights", async () => {
    const shown = JSON.parse((await runNx(ws, ['show', 'project', 'app', '--json'])).stdout) as {
      targets: Record<string, { dependsOn?: unknown[]; options?: { args?: string[] } }>;
    };
    expect(Object.keys(shown.targets)).not.toContain('docker-build');
    expect(shown.targets['docker:build']?.dependsOn).toContainEqual({ projects: ['m'], target: 'asset-image' });

    // The asset was never built: docker:build must build it first (task order), then Docker finds the tag.
    expect(existsSync(ws.path('dist/asset-images/m/image.json'))).toBe(false);
    await docker(['rmi', '-f', 'apps-app'], { reject: false });
    const run = await runNx(ws, ['run', 'app:docker:build', '--output-style=static']);
    expect(run.stdout).toContain('m:asset-image');
    expect(existsSync(ws.path('dist/asset-images/m/image.json'))).toBe(true);
    await expectWeightsIn('apps-app');
  });
});
