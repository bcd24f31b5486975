// docker-build with buildx on Docker 26 (BuildKit, the containerd image store), end to end: real nx, the dockerd 26
// that tools/test-services.sh starts beside 20.10 (Debian 13's packages, tools/install-modern-docker.sh), the test
// registry. With buildx installed and the containerd store, docker-build hands each asset the Dockerfile uses to
// BuildKit as a named `oci-layout://` context at the exact digest and never loads it into Docker: references by tag,
// by ARG, digest pins of the current build and of an older one that only the registry holds, several assets in one
// Dockerfile, amd64 and arm64 apps. The app's layers are exported uncompressed unless the target says otherwise.
// Docker 20.10 has no buildx: this file runs in the e2e-docker26 project (and says so when run on 20.10).
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docker, e2eEngine, removeImagesOf } from './support/docker';
import { servicesEnv } from './support/services';
import { createWorkspace, runNx, type Workspace } from './support/workspace';
import { sha256 } from './support/sha256';
import { readIndexResult, readResult, type IndexResult } from './support/asset-image-result';

const RUN = randomBytes(3).toString('hex');
const modern = e2eEngine() === '26';

describe.skipIf(!modern)(
  `docker-build with buildx and oci-layout contexts (Docker 26, containerd store)${modern ? '' : ' (skipped on Docker 20.10: it has no buildx; the e2e-docker26 project runs it)'}`,
  () => {
    const s = servicesEnv();
    const IMAGE = `${s.NXAI_REGISTRY}/nxai-e2e/bx-${RUN}`;
    const TOK = `${s.NXAI_REGISTRY}/nxai-e2e/bxtok-${RUN}`;
    const APP = `nxai-e2e/bx-app-${RUN}`;
    const weight = randomBytes(768 * 1024);
    const vocab = 'hello\nworld\n';
    let ws: Workspace;
    let result: IndexResult;

    const app = (name: string, dockerfile: string, options: Record<string, unknown> = {}) => ({
      [`apps/${name}/project.json`]: `${JSON.stringify({ name, root: `apps/${name}`, targets: { 'docker-build': { options: { network: 'host', tags: [`${APP}-${name}`], ...options } } } }, null, 2)}\n`,
      [`apps/${name}/Dockerfile`]: dockerfile,
    });
    const copyBert = (ref = `${IMAGE}:0.1`) => `FROM busybox\nCOPY --from=${ref} / /assets/bert/\n`;

    beforeAll(async () => {
      ws = await createWorkspace({
        'assets/bert/asset.json': `${JSON.stringify({ name: 'bert', image: IMAGE, tags: ['0.1'] }, null, 2)}\n`,
        // Nothing loads the assets but what a test asks for.
        'assets/bert/project.json': `${JSON.stringify({ name: 'bert', targets: { 'asset-image': { options: { load: false } } } }, null, 2)}\n`,
        'assets/bert/model.bin': weight,
        'assets/bert/config.json': '{"hidden_size": 8}\n',
        'assets/tok/asset.json': `${JSON.stringify({ name: 'tok', image: TOK, tags: ['1'] }, null, 2)}\n`,
        'assets/tok/project.json': `${JSON.stringify({ name: 'tok', targets: { 'asset-image': { options: { load: false } } } }, null, 2)}\n`,
        'assets/tok/vocab.txt': vocab,
        ...app('amd', copyBert(), { platform: 'linux/amd64' }),
        ...app('arm', copyBert(), { platform: 'linux/arm64' }),
        ...app('gzip', copyBert(), { exportCompression: 'default' }),
        ...app('loaded', copyBert(), { useBuildx: false }),
        // Two assets, one of them by an ARG whose default names it (Docker expands ARGs in FROM, not in COPY --from).
        ...app(
          'two',
          `ARG TOKENIZER=${TOK}:1\nFROM \${TOKENIZER} AS tok\nFROM busybox\nCOPY --from=${IMAGE}:0.1 / /assets/bert/\nCOPY --from=tok / /assets/tok/\n`,
        ),
      });
      await runNx(ws, ['run-many', '-t', 'asset-image']);
      result = readIndexResult(ws, 'bert');
    }, 300_000);

    afterAll(async () => {
      await removeImagesOf(IMAGE, TOK, ...['amd', 'arm', 'gzip', 'loaded', 'two', 'pin', 'old'].map((a) => `${APP}-${a}`));
      await ws?.dispose();
    });

    /** The app image `name` holds `file` (path in the image) with these bytes; returns its architecture. */
    const appHolds = async (name: string, files: Record<string, Buffer | string>): Promise<string> => {
      const ref = `${APP}-${name}`;
      const id = (await docker(['create', ref, '/none'])).stdout.trim();
      try {
        for (const [file, bytes] of Object.entries(files)) {
          const out = ws.path(`copied-${name}-${sha256(file).slice(0, 8)}`);
          await docker(['cp', `${id}:${file}`, out]);
          expect(sha256(readFileSync(out)), `${name}: ${file}`).toBe(sha256(bytes));
        }
      } finally {
        await docker(['rm', id], { reject: false });
      }
      return (await docker(['image', 'inspect', '--format', '{{.Architecture}}', ref])).stdout.trim();
    };
    const inDocker = async (ref: string) => (await docker(['image', 'inspect', ref], { reject: false })).exitCode === 0;
    const contextFlag = (name: string, digest: string) => `--build-context ${name}=oci-layout://${ws.path('.asset-images/oci')}@${digest}`;

    it.each([
      ['amd', 'amd64'],
      ['arm', 'arm64'],
    ])(
      'by default (no useBuildx): the %s app gets the asset as an oci-layout context at the index digest, never loaded, and buildx is told to export uncompressed',
      async (name, arch) => {
        await removeImagesOf(IMAGE);
        const run = await runNx(ws, ['run', `${name}:docker-build`]);
        expect(run.stdout).toContain(contextFlag(`${IMAGE}:0.1`, result.manifestDigest));
        expect(run.stdout).toContain('--output type=docker,compression=uncompressed');
        expect(await inDocker(`${IMAGE}:0.1`)).toBe(false);
        expect(await appHolds(name, { '/assets/bert/model.bin': weight })).toBe(arch);
      },
    );

    it("exportCompression 'default' leaves BuildKit's own export (--load)", async () => {
      const run = await runNx(ws, ['run', 'gzip:docker-build']);
      expect(run.stdout).toContain(contextFlag(`${IMAGE}:0.1`, result.manifestDigest));
      expect(run.stdout).toMatch(/ --load /);
      expect(run.stdout).not.toContain('compression=');
      await appHolds('gzip', { '/assets/bert/model.bin': weight });
    });

    it('useBuildx: false loads the asset into Docker (the load path still works on the containerd store)', async () => {
      await removeImagesOf(IMAGE);
      const run = await runNx(ws, ['run', 'loaded:docker-build']);
      expect(run.stdout).not.toContain('--build-context');
      expect(await inDocker(`${IMAGE}:0.1`)).toBe(true);
      await appHolds('loaded', { '/assets/bert/model.bin': weight });
    });

    it('two assets in one Dockerfile, one named by an ARG: one context each, both sets of bytes in the app', async () => {
      const tok = readResult(ws, 'tok');
      const run = await runNx(ws, ['run', 'two:docker-build']);
      expect(run.stdout).toContain(contextFlag(`${IMAGE}:0.1`, result.manifestDigest));
      expect(run.stdout).toContain(contextFlag(`${TOK}:1`, tok.manifestDigest));
      // The graph knows both: docker-build depends on both asset-image targets.
      const shown = JSON.parse((await runNx(ws, ['show', 'project', 'two', '--json'])).stdout) as {
        targets: Record<string, { dependsOn: { projects: string[] }[] }>;
      };
      expect(shown.targets['docker-build']!.dependsOn.flatMap((d) => d.projects).sort()).toEqual(['bert', 'tok']);
      await appHolds('two', { '/assets/bert/model.bin': weight, '/assets/tok/vocab.txt': vocab });
    });

    it('a digest pin of the current build: the context is named as written and reads the layout at that digest', async () => {
      const pinned = `${IMAGE}@${result.manifestDigest}`;
      await ws.write(
        'apps/pin/project.json',
        `${JSON.stringify({ name: 'pin', root: 'apps/pin', targets: { 'docker-build': { options: { network: 'host', tags: [`${APP}-pin`] } } } }, null, 2)}\n`,
      );
      await ws.write('apps/pin/Dockerfile', copyBert(pinned));
      const run = await runNx(ws, ['run', 'pin:docker-build']);
      expect(run.stdout).toContain(contextFlag(pinned, result.manifestDigest));
      await appHolds('pin', { '/assets/bert/model.bin': weight });
    });

    it('a digest pin of an older build only the registry holds: pulled into the layout store, the app holds the old bytes', async () => {
      await runNx(ws, ['run', 'bert:asset-push']);
      const old = result.manifestDigest;
      // A new weight under a new version tag; the old build's blobs leave the workspace.
      const changed = Buffer.from(weight);
      changed[7] ^= 0xff;
      await ws.write('assets/bert/model.bin', changed);
      await ws.write('assets/bert/asset.json', `${JSON.stringify({ name: 'bert', image: IMAGE, tags: ['0.2'] }, null, 2)}\n`);
      await runNx(ws, ['run', 'bert:asset-image']);
      const current = readResult(ws, 'bert');
      expect(current.manifestDigest).not.toBe(old);
      rmSync(ws.path('.asset-images'), { recursive: true, force: true });
      await removeImagesOf(IMAGE);

      const pinned = `${IMAGE}@${old}`;
      await ws.write(
        'apps/old/project.json',
        `${JSON.stringify({ name: 'old', root: 'apps/old', targets: { 'docker-build': { options: { network: 'host', tags: [`${APP}-old`] } } } }, null, 2)}\n`,
      );
      await ws.write('apps/old/Dockerfile', copyBert(pinned));
      const run = await runNx(ws, ['run', 'old:docker-build']);
      expect(run.stdout).toContain(contextFlag(pinned, old));
      // Nothing went into Docker: neither the asset's tags nor the old build's content tag.
      expect(await inDocker(`${IMAGE}:sha256-${old.slice(7, 27)}`)).toBe(false);
      expect(await inDocker(`${IMAGE}:0.1`)).toBe(false);
      await appHolds('old', { '/assets/bert/model.bin': weight });

      // A digest nobody holds names the Dockerfile line and the fix.
      const unknown = `sha256:${'0'.repeat(64)}`;
      await ws.write('apps/old/Dockerfile', copyBert(`${IMAGE}@${unknown}`));
      const missing = await runNx(ws, ['run', 'old:docker-build'], { reject: false });
      expect(missing.exitCode).not.toBe(0);
      expect(missing.stdout + missing.stderr).toMatch(/apps\/old\/Dockerfile:2: .*neither in this workspace's store nor in the registry/);
    });
  },
);
