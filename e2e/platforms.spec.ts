// Platforms (issue 13), end to end: real nx, the test dockerd and registry,
// skopeo. asset.json names no platforms, so the default applies: linux/amd64
// and linux/arm64. The build records one index (the asset's digest, in the
// result and the lock) over two manifests that share every layer; the layout
// holds the index; Docker gets the engine's variant; the push sends the index
// with both manifests, which skopeo reads per architecture; apps build for
// either platform with both builders, from the local build and from the
// registry alone; the plugin option `platforms` is part of the cache key.
// The apps set useBuildx: false: Docker gets a variant loaded (buildx contexts: buildx.spec.ts).
import { randomBytes } from 'node:crypto';
import { renameSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { buildkitEnv, docker, expectedDockerId, removeBuild, removeImagesOf } from './support/docker';
import { exec } from './support/exec';
import { servicesEnv } from './support/services';
import { createWorkspace, runNx, type Workspace } from './support/workspace';
import { readIndexResult, readResult, type IndexResult } from './support/asset-image-result';

const RUN = randomBytes(3).toString('hex');

describe('an asset for linux/amd64 and linux/arm64', () => {
  const REG = servicesEnv().NXAI_REGISTRY;
  const IMAGE = `${REG}/nxai-e2e/plat-${RUN}`;
  const APP = `nxai-e2e/plat-app-${RUN}`;
  let ws: Workspace;
  let result: IndexResult;

  beforeAll(async () => {
    ws = await createWorkspace({
      'assets/bert/asset.json': `${JSON.stringify({ name: 'bert', image: IMAGE, tags: ['0.1'] }, null, 2)}\n`,
      '.gitignore': 'assets/bert/model.bin\n',
      'assets/bert/model.bin': randomBytes(512 * 1024),
      'assets/bert/config.json': '{"hidden_size": 8}\n',
      'apps/arm/project.json': `${JSON.stringify({ name: 'arm', root: 'apps/arm', targets: { 'docker-build': { options: { network: 'host', useBuildx: false, platform: 'linux/arm64', tags: [`${APP}-arm`] } } } }, null, 2)}\n`,
      'apps/arm/Dockerfile': `FROM scratch\nCOPY --from=${IMAGE}:0.1 / /assets/bert/\n`,
      'apps/amd/project.json': `${JSON.stringify({ name: 'amd', root: 'apps/amd', targets: { 'docker-build': { options: { network: 'host', useBuildx: false, platform: 'linux/amd64', tags: [`${APP}-amd`] } } } }, null, 2)}\n`,
      'apps/amd/Dockerfile': `FROM scratch\nCOPY --from=${IMAGE}:0.1 / /assets/bert/\n`,
      // No `platform`: the app builds for what Docker builds for by default.
      'apps/host/project.json': `${JSON.stringify({ name: 'host', root: 'apps/host', targets: { 'docker-build': { options: { network: 'host', useBuildx: false, tags: [`${APP}-host`] } } } }, null, 2)}\n`,
      'apps/host/Dockerfile': `FROM scratch\nCOPY --from=${IMAGE}:0.1 / /assets/bert/\n`,
    });
    await runNx(ws, ['run', 'bert:asset-image']);
    result = readIndexResult(ws, 'bert');
  }, 300_000);

  afterAll(async () => {
    await removeImagesOf(IMAGE, `${APP}-arm`, `${APP}-amd`, `${APP}-host`);
    await ws?.dispose();
  });

  it('records the index as the asset digest, in the result and the lock, with both platforms', async () => {
    expect(result.platforms.map((p) => p.platform)).toEqual(['linux/amd64', 'linux/arm64']);
    const lock = JSON.parse(await ws.read('assets/bert/asset.lock.json'));
    expect(lock.image.manifest).toBe(result.manifestDigest);
    expect(lock.image.mediaType).toBe('application/vnd.oci.image.index.v1+json');
    // The layout's index.json names the index under the asset's references; the index blob lists both manifests.
    const entries = JSON.parse(await ws.read('.asset-images/oci/index.json')).manifests as { digest: string; mediaType: string }[];
    expect(
      entries.filter((e) => e.digest === result.manifestDigest).every((e) => e.mediaType === 'application/vnd.oci.image.index.v1+json'),
    ).toBe(true);
    expect(entries.some((e) => e.digest === result.manifestDigest)).toBe(true);
    const raw = JSON.parse(await ws.read(`.asset-images/oci/blobs/sha256/${result.manifestDigest.slice(7)}`));
    expect(raw.manifests.map((m: { digest: string }) => m.digest)).toEqual(result.platforms.map((p) => p.manifestDigest));
  });

  it("Docker holds the engine's variant (amd64 here) under the tag", async () => {
    const id = (await docker(['image', 'inspect', '--format', '{{.Id}} {{.Architecture}}', `${IMAGE}:0.1`])).stdout.trim();
    expect(id).toBe(`${expectedDockerId(result, 'linux/amd64')} amd64`);
  });

  it('asset-push sends the index with both manifests; skopeo reads each architecture from the registry, same layers', async () => {
    await runNx(ws, ['run', 'bert:asset-push']);
    const layers: string[][] = [];
    for (const arch of ['amd64', 'arm64']) {
      const inspected = JSON.parse(
        (await exec('skopeo', ['inspect', '--tls-verify=false', '--override-arch', arch, `docker://${IMAGE}:0.1`])).stdout,
      );
      expect(inspected.Digest).toBe(result.manifestDigest);
      expect(inspected.Architecture).toBe(arch);
      layers.push(inspected.Layers);
    }
    expect(layers[1]).toEqual(layers[0]);
  });

  const buildkit = buildkitEnv();
  it.each([
    ['arm', 'arm64', 'BuildKit', buildkit],
    ['amd', 'amd64', 'BuildKit', buildkit],
    ['arm', 'arm64', 'the legacy builder', { DOCKER_BUILDKIT: '0' }],
    ['amd', 'amd64', 'the legacy builder', { DOCKER_BUILDKIT: '0' }],
  ])(
    'docker-build of the %s app (linux/%s, %s): Docker gets that variant and the app is built for it',
    async (app, arch, _builder, env) => {
      // --noCache: the legacy builder's cache does not key on the platform, and both variants hold the same files.
      const run = await runNx(ws, ['run', `${app}:docker-build`, '--noCache'], { env });
      const variant = result.platforms.find((p) => p.platform === `linux/${arch}`)!;
      // Docker got that variant for the build (afterwards the cache-hit hook puts back the asset-image target's own, amd64).
      expect(run.stdout).toMatch(new RegExp(`${variant.manifestDigest}|${variant.configDigest}`));
      const built = (await docker(['image', 'inspect', '--format', '{{.Architecture}}', `${APP}-${app}`])).stdout.trim();
      expect(built).toBe(arch);
      // The app holds the asset's files (copied out without running the foreign architecture).
      const id = (await docker(['create', `${APP}-${app}`, '/none'])).stdout.trim();
      try {
        await docker(['cp', `${id}:/assets/bert/config.json`, ws.path(`copied-${app}-${arch}.json`)]);
        expect(await ws.read(`copied-${app}-${arch}.json`)).toBe('{"hidden_size": 8}\n');
      } finally {
        await docker(['rm', id]);
      }
    },
  );

  it('without the layout store and with Docker emptied, the arm64 app still builds: the variant comes from a verified rebuild of the index', async () => {
    rmSync(ws.path('.asset-images/oci'), { recursive: true, force: true });
    await removeImagesOf(IMAGE, `${APP}-arm`, `${APP}-amd`);
    for (const p of result.platforms) await removeBuild(p);
    const run = await runNx(ws, ['run', 'arm:docker-build', '--noCache'], { env: buildkit });
    const arm = result.platforms.find((p) => p.platform === 'linux/arm64')!;
    expect(run.stdout).toContain(`loaded ${arm.manifestDigest} from the sources`);
    expect((await docker(['image', 'inspect', '--format', '{{.Architecture}}', `${APP}-arm`])).stdout.trim()).toBe('arm64');
  });
  it("docker-build without a platform gives Docker the variant Docker builds for: the engine's, or DOCKER_DEFAULT_PLATFORM", async () => {
    const amd = result.platforms.find((p) => p.platform === 'linux/amd64')!;
    const arm = result.platforms.find((p) => p.platform === 'linux/arm64')!;
    const native = await runNx(ws, ['run', 'host:docker-build', '--noCache'], { env: buildkit });
    expect(native.stdout).toMatch(new RegExp(`${amd.manifestDigest}|${amd.configDigest}`));
    expect((await docker(['image', 'inspect', '--format', '{{.Architecture}}', `${APP}-host`])).stdout.trim()).toBe('amd64');

    const other = await runNx(ws, ['run', 'host:docker-build', '--noCache', '--skip-nx-cache'], {
      env: { ...buildkit, DOCKER_DEFAULT_PLATFORM: 'linux/arm64' },
    });
    expect(other.stdout).toMatch(new RegExp(`${arm.manifestDigest}|${arm.configDigest}`));
    expect((await docker(['image', 'inspect', '--format', '{{.Architecture}}', `${APP}-host`])).stdout.trim()).toBe('arm64');
  });

  it('from the registry alone (no layout store, nothing in Docker, the weight not on disk), the arm64 app builds with both builders', async () => {
    const arm = result.platforms.find((p) => p.platform === 'linux/arm64')!;
    const weight = ws.path('assets/bert/model.bin');
    const away = ws.path('model.bin.away'); // outside the asset folder, or it would be part of the asset
    renameSync(weight, away);
    try {
      for (const env of [buildkit, { DOCKER_BUILDKIT: '0' }]) {
        rmSync(ws.path('.asset-images'), { recursive: true, force: true });
        await removeImagesOf(IMAGE, `${APP}-arm`);
        for (const p of result.platforms) await removeBuild(p);
        const run = await runNx(ws, ['run', 'arm:docker-build', '--noCache'], { env });
        // Assembled from the lock's pins: the absent weight's layer streams from the registry (labelled "sources"
        // when the image is put together here, "registry" when pulled whole).
        expect(run.stdout).toMatch(new RegExp(`loaded ${arm.manifestDigest} from the (sources|registry)`));
        expect((await docker(['image', 'inspect', '--format', '{{.Architecture}}', `${APP}-arm`])).stdout.trim()).toBe('arm64');
        const id = (await docker(['create', `${APP}-arm`, '/none'])).stdout.trim();
        try {
          await docker(['cp', `${id}:/assets/bert/model.bin`, ws.path('copied-model.bin')]);
          expect((await readFile(ws.path('copied-model.bin'))).equals(await readFile(away))).toBe(true);
        } finally {
          await docker(['rm', id]);
        }
      }
    } finally {
      renameSync(away, weight);
    }
  });

  it('the plugin option platforms is part of the cache key: ["linux/amd64"] is a miss and a plain manifest under another digest', async () => {
    const nxJson = JSON.parse(await ws.read('nx.json'));
    const saved = JSON.stringify(nxJson, null, 2);
    nxJson.plugins = [{ plugin: 'nx-asset-images', options: { platforms: ['linux/amd64'] } }];
    await ws.write('nx.json', `${JSON.stringify(nxJson, null, 2)}\n`);
    try {
      const run = await runNx(ws, ['run', 'bert:asset-image']);
      expect(run.stdout).not.toMatch(/local cache/);
      const single = readResult(ws, 'bert');
      expect(single.platforms).toBeUndefined();
      expect(single.manifestDigest).not.toBe(result.manifestDigest);
      // The amd64 manifest of the index is that plain manifest: same layers, same config.
      expect(single.manifestDigest).toBe(result.platforms[0]!.manifestDigest);
      const raw = JSON.parse((await exec('skopeo', ['inspect', '--raw', `oci:${ws.path('.asset-images/oci')}:${IMAGE}:0.1`])).stdout);
      expect(raw.mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
    } finally {
      await ws.write('nx.json', `${saved}\n`);
    }
    // Back to the default: the index again (from Nx's cache).
    const back = await runNx(ws, ['run', 'bert:asset-image']);
    expect(back.stdout).toMatch(/local cache/);
    expect(readResult(ws, 'bert').manifestDigest).toBe(result.manifestDigest);
  });
});
