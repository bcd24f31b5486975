// The README's "Using it in a workspace" commands, run as written and in their
// order in a fresh workspace, so the front door cannot drift from the product.
// What the test supplies itself, and only that:
// - the install line installs the packed plugin (the tarball route the README
//   gives; the line itself is checked to name this package's version) beside
//   this repository's Nx, from npm's cache;
// - the `cp` line is the user's own files: the test writes a weight and a vocab;
// - the registry host `registry.example.com` is the test registry's (no network
//   but 127.0.0.1 in tests);
// - an app `api` with a Dockerfile (FROM busybox) is there before, as the
//   README assumes.
// Runs on the repository's Nx line and whatever Node runs the suite: this is the
// packed plugin used through real nx, one build + load + push + docker-build.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docker, dockerRunRm } from './support/docker';
import { npmInstallOffline, packPlugin, repoNxVersion, type PackedPlugin } from './support/packed-plugin';
import { servicesEnv } from './support/services';
import { createWorkspace, pluginDir, repoRoot, runNx, type Workspace } from './support/workspace';
import { readResult } from './support/asset-image-result';

const EXAMPLE_REGISTRY = 'registry.example.com';

/** The shell lines of the first ```sh block after `heading`: continuations joined, comments dropped. */
function readmeCommands(readme: string, heading: string): string[] {
  const at = readme.indexOf(`\n${heading}\n`);
  if (at === -1) throw new Error(`README.md has no "${heading}" section`);
  const block = /```sh\n([\s\S]*?)```/.exec(readme.slice(at));
  if (!block) throw new Error(`README.md's "${heading}" section has no sh block`);
  return block[1]!
    .replace(/\\\n\s*/g, '')
    .split('\n')
    .map((line) => line.replace(/\s+#.*$/, '').trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

describe("README's workspace commands, verbatim", () => {
  const commands = readmeCommands(readFileSync(path.join(repoRoot, 'README.md'), 'utf8'), '## Using it in a workspace');
  const registry = (): string => servicesEnv().NXAI_REGISTRY;
  // Fixed bytes: the README's repository name is fixed too, and version tags never move, so a rerun against the same
  // registry (services reused across runs) pushes the same content under 0.1.
  const weight = Buffer.from(Array.from({ length: 1024 * 1024 + 5 }, (_, i) => (i * 7919 + 17) % 251));
  let packed: PackedPlugin;
  let ws: Workspace;

  beforeAll(async () => {
    packed = await packPlugin();
    ws = await createWorkspace(
      {
        'nx.json': '{}\n',
        'apps/api/project.json': `${JSON.stringify({ name: 'api', root: 'apps/api' }, null, 2)}\n`,
        'apps/api/Dockerfile': 'FROM busybox\nCOPY app.py /app/app.py\n',
        'apps/api/app.py': 'print("hi")\n',
      },
      { linkNodeModules: false },
    );
  });
  afterAll(async () => {
    await docker(['rmi', '-f', 'api:latest', `${registry()}/asset/models-bert:0.1`], { reject: false }).catch(() => undefined);
    await ws?.dispose();
    await packed?.dispose();
  });

  it('installs, registers, generates, builds, pushes, wires the app and builds it with the weights inside', async () => {
    const version = (JSON.parse(readFileSync(path.join(pluginDir, 'package.json'), 'utf8')) as { version: string }).version;
    const seen: string[] = [];
    for (const command of commands) {
      const words = command.replaceAll(EXAMPLE_REGISTRY, registry()).split(/\s+/);
      if (words[0] === 'npm') {
        // The tarball route, named by this package's version.
        expect(command).toBe(`npm i -D ./nx-asset-images-${version}.tgz`);
        await npmInstallOffline(ws, { nx: repoNxVersion() }, [packed.tarball]);
        // The package's own command came with it (npm drops a bin entry it finds invalid).
        expect(existsSync(ws.path('node_modules/.bin/nx-asset-images'))).toBe(true);
      } else if (words[0] === 'cp') {
        expect(words.at(-1)).toBe('assets/models/bert/');
        await ws.write('assets/models/bert/weights.bin', weight);
        await ws.write('assets/models/bert/vocab.txt', '[CLS]\n[SEP]\n');
      } else {
        expect(words[0], command).toBe('nx');
        await runNx(ws, words.slice(1));
      }
      seen.push(words[0] === 'nx' ? words.slice(0, 3).join(' ') : words[0]!);
    }
    // Every step a new user is told to take ran, in order.
    expect(seen).toEqual([
      'npm',
      'nx g nx-asset-images:init',
      'nx g nx-asset-images:asset',
      'cp',
      'nx run models-bert:asset-image',
      'nx run models-bert:asset-push',
      'nx g nx-asset-images:use-asset',
      'nx affected -t',
    ]);

    // --tags=0.1 is the tag "0.1" (Nx's command line hands it over as a number).
    const manifest = JSON.parse(await ws.read('assets/models/bert/asset.json')) as { tags: unknown };
    expect(manifest.tags).toEqual(['0.1']);
    // The registry holds the build under 0.1.
    const result = readResult(ws, 'models-bert');
    const head = await fetch(`http://${registry()}/v2/asset/models-bert/manifests/0.1`, {
      method: 'HEAD',
      headers: { accept: 'application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json' },
    });
    expect(head.headers.get('docker-content-digest')).toBe(result.manifestDigest);
    // The app's Dockerfile takes it, and the app built by `nx affected` holds the weight.
    expect(await ws.read('apps/api/Dockerfile')).toContain(`COPY --from=${registry()}/asset/models-bert:0.1 / /assets/models-bert`);
    const sum = await dockerRunRm('api:latest', ['sha256sum', '/assets/models-bert/weights.bin']);
    expect(sum.stdout.split(/\s+/)[0]).toBe(createHash('sha256').update(weight).digest('hex'));
  });
});
