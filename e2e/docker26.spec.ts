// Docker 26 with BuildKit, buildx and the containerd image store (issue 15, first part), end to end:
// real nx, the dockerd 26 that tools/test-services.sh starts beside 20.10 (from Debian 13's packages,
// tools/install-modern-docker.sh), the test registry. An asset (the default linux/amd64 + linux/arm64
// index) goes into the containerd store by `docker load`; apps build from it with `docker build`
// (the asset loaded) and with `docker buildx build` and the asset as an `oci-layout://` context
// (never loaded), for amd64 and arm64, and hold the asset's bytes.
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exec } from './support/exec';
import { servicesEnv } from './support/services';
import { createWorkspace, runNx, type Workspace } from './support/workspace';

const s = servicesEnv();
const modern = s.NXAI_DOCKER26_HOST && s.NXAI_DOCKER26_CLI && s.NXAI_DOCKER26_CONFIG;
const inCI = process.env['CI'] !== undefined && process.env['CI'] !== 'false' && process.env['CI'] !== '0';
const RUN = randomBytes(3).toString('hex');
const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

// Outside CI a machine without dockerd 26 skips these, and the name says so; in CI it is a failure.
const suite = modern || inCI ? describe : describe.skip;
suite(
  `Docker 26, containerd image store${modern ? '' : ' (skipped: no dockerd 26 in the services env; run tools/install-modern-docker.sh)'}`,
  () => {
    const IMAGE = `${s.NXAI_REGISTRY}/nxai-e2e/d26-${RUN}`;
    const APP = `nxai-e2e/d26-app-${RUN}`;
    const env = () => ({
      DOCKER_HOST: s.NXAI_DOCKER26_HOST!,
      DOCKER_CONFIG: s.NXAI_DOCKER26_CONFIG!,
      PATH: `${path.dirname(s.NXAI_DOCKER26_CLI!)}:${process.env['PATH'] ?? ''}`,
    });
    const docker26 = (args: string[], reject = true) =>
      exec(s.NXAI_DOCKER26_CLI!, args, { env: { ...process.env, ...env() }, reject, timeoutMs: 240_000 });
    const weight = randomBytes(768 * 1024);
    let ws: Workspace;
    let result: {
      manifestDigest: string;
      references: string[];
      platforms: { platform: string; manifestDigest: string; configDigest: string }[];
    };

    const app = (name: string, options: Record<string, unknown>) => ({
      [`apps/${name}/project.json`]: `${JSON.stringify({ name, root: `apps/${name}`, targets: { 'docker-build': { options: { network: 'host', tags: [`${APP}-${name}`], ...options } } } }, null, 2)}\n`,
      [`apps/${name}/Dockerfile`]: `FROM scratch\nCOPY --from=${IMAGE}:0.1 / /assets/bert/\n`,
    });

    beforeAll(async () => {
      if (!modern)
        throw new Error(
          'CI: the services env has no dockerd 26 (NXAI_DOCKER26_*): tools/install-modern-docker.sh did not run or dockerd 26 did not start',
        );
      ws = await createWorkspace({
        'assets/bert/asset.json': `${JSON.stringify({ name: 'bert', image: IMAGE, tags: ['0.1'] }, null, 2)}\n`,
        // Nothing loads the asset but what a test asks for (load: true, or docker-build without buildx).
        'assets/bert/project.json': `${JSON.stringify({ name: 'bert', targets: { 'asset-image': { options: { load: false } } } }, null, 2)}\n`,
        'assets/bert/model.bin': weight,
        'assets/bert/config.json': '{"hidden_size": 8}\n',
        ...app('loaded-amd', { platform: 'linux/amd64' }),
        ...app('loaded-arm', { platform: 'linux/arm64' }),
        ...app('buildx-amd', { platform: 'linux/amd64', useBuildx: true }),
        ...app('buildx-arm', { platform: 'linux/arm64', useBuildx: true }),
      });
      await runNx(ws, ['run', 'bert:asset-image'], { env: env() });
      result = JSON.parse(await ws.read('dist/asset-images/bert/image.json'));
    }, 300_000);

    afterAll(async () => {
      if (!modern) return;
      const refs = (await docker26(['image', 'ls', '--format', '{{.Repository}}:{{.Tag}}'], false)).stdout
        .split('\n')
        .filter((r) => r.includes(RUN));
      if (refs.length > 0) await docker26(['rmi', '-f', ...refs], false);
      await ws?.dispose();
    });

    const appHoldsTheAsset = async (name: string, arch: string) => {
      const ref = `${APP}-${name}`;
      expect((await docker26(['image', 'inspect', '--format', '{{.Architecture}}', ref])).stdout.trim()).toBe(arch);
      const id = (await docker26(['create', ref, '/none'])).stdout.trim();
      try {
        const out = ws.path(`copied-${name}.bin`);
        await docker26(['cp', `${id}:/assets/bert/model.bin`, out]);
        expect(sha256(readFileSync(out))).toBe(sha256(weight));
      } finally {
        await docker26(['rm', id], false);
      }
    };
    const assetInDocker = async () => (await docker26(['image', 'inspect', `${IMAGE}:0.1`], false)).exitCode === 0;

    it("asset-image --load=true puts the engine's variant into the containerd store under every tag, and a second run only checks", async () => {
      const amd = result.platforms.find((p) => p.platform === 'linux/amd64')!;
      const first = await runNx(ws, ['run', 'bert:asset-image', '--load=true', '--skip-nx-cache'], { env: env() });
      expect(first.stdout).toMatch(/Docker 26\.[^:]*: (loaded it|held the image)/);
      for (const ref of result.references) {
        const inspect = JSON.parse((await docker26(['image', 'inspect', ref])).stdout)[0];
        expect(inspect.Architecture).toBe('amd64');
        // The containerd store names an image by its manifest digest.
        expect([amd.manifestDigest, amd.configDigest]).toContain(inspect.Id);
      }
      const again = await runNx(ws, ['run', 'bert:asset-image', '--load=true', '--skip-nx-cache'], { env: env() });
      expect(again.stdout).toMatch(/already held it/);
    });

    it.each([
      ['loaded-amd', 'amd64'],
      ['loaded-arm', 'arm64'],
    ])('docker-build (%s, BuildKit of Docker 26): Docker gets the linux/%s variant, the app holds the asset', async (name, arch) => {
      await docker26(['rmi', '-f', ...result.references], false);
      const run = await runNx(ws, ['run', `${name}:docker-build`], { env: env() });
      const variant = result.platforms.find((p) => p.platform === `linux/${arch}`)!;
      expect(run.stdout).toMatch(new RegExp(`${variant.manifestDigest}|${variant.configDigest}`));
      await appHoldsTheAsset(name, arch);
    });

    it.each([
      ['buildx-amd', 'amd64'],
      ['buildx-arm', 'arm64'],
    ])(
      'docker-build with useBuildx (%s): the asset is an oci-layout:// context at the index digest and never loaded',
      async (name, arch) => {
        await docker26(['rmi', '-f', ...result.references], false);
        expect(await assetInDocker()).toBe(false);
        const run = await runNx(ws, ['run', `${name}:docker-build`], { env: env() });
        expect(run.stdout).toContain(`--build-context ${IMAGE}:0.1=oci-layout://${ws.path('.asset-images/oci')}@${result.manifestDigest}`);
        expect(await assetInDocker()).toBe(false);
        await appHoldsTheAsset(name, arch);
      },
    );
  },
);
