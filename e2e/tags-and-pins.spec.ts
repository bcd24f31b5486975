// Tags that never change meaning, and digest-pinned references (issue 13), end
// to end: real nx, the test dockerd (legacy builder and BuildKit) and the real
// Distribution registry. asset-push reads what the registry's tags name before
// writing any: a version tag on other content fails the push and leaves every
// tag as it was; a new version tag goes through and `latest` (mutable) moves;
// --force moves a version tag and says so. An app Dockerfile that pins the
// asset by digest (`COPY --from=<repo>@sha256:…`) builds through docker-build,
// for the current build and for an older one that only the registry has.
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildkitEnv, dockerRunRm, e2eEngine, removeImagesOf } from './support/docker';
import { servicesEnv } from './support/services';
import { createWorkspace, runNx, type Workspace } from './support/workspace';
import { sha256 } from './support/sha256';
import { readResult } from './support/asset-image-result';

const RUN = randomBytes(3).toString('hex');
const ACCEPT = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

describe('version tags never move; digest-pinned references build', () => {
  const services = servicesEnv();
  const REG = services.NXAI_REGISTRY;
  const REPO = `nxai-e2e/tags-${RUN}`;
  const IMAGE = `${REG}/${REPO}`;
  const APP_TAG = `nxai-e2e/tags-app-${RUN}`;
  const first = randomBytes(1024 * 1024 + 3);
  const second = Buffer.from(first);
  second[1000] ^= 0xff;
  let ws: Workspace;
  const digests: { first?: string; second?: string } = {};

  /** What the registry's tag names now (undefined: no such tag). */
  const tagDigest = async (tag: string): Promise<string | undefined> => {
    const response = await fetch(`http://${REG}/v2/${REPO}/manifests/${tag}`, { method: 'HEAD', headers: { accept: ACCEPT } });
    return response.status === 404 ? undefined : (response.headers.get('docker-content-digest') ?? undefined);
  };
  const setTags = (tags: string[]) =>
    ws.write('assets/bert/asset.json', `${JSON.stringify({ name: 'bert', image: IMAGE, tags }, null, 2)}\n`);
  const built = async () => readResult(ws, 'bert').manifestDigest;

  beforeAll(async () => {
    ws = await createWorkspace({
      'nx.json': `${JSON.stringify({ plugins: [{ plugin: 'nx-asset-images', options: {} }] }, null, 2)}\n`,
      'assets/bert/asset.json': `${JSON.stringify({ name: 'bert', image: IMAGE, tags: ['0.1', 'latest'] }, null, 2)}\n`,
      'assets/bert/model.bin': first,
      'apps/api/project.json': `${JSON.stringify({ name: 'api', root: 'apps/api', targets: { 'docker-build': { options: { network: 'host', tags: [APP_TAG] } } } }, null, 2)}\n`,
      'apps/api/Dockerfile': `FROM busybox\nCOPY --from=${IMAGE}:0.1 / /assets/bert/\n`,
    });
    await runNx(ws, ['run', 'bert:asset-image']);
    await runNx(ws, ['run', 'bert:asset-push']);
    digests.first = await built();
  }, 300_000);

  afterAll(async () => {
    await removeImagesOf(IMAGE, APP_TAG);
    await ws?.dispose();
  });

  it('other content under 0.1: the build warns, the push fails naming the tag, both digests and the fix, and no tag moves', async () => {
    expect(await tagDigest('0.1')).toBe(digests.first);
    await ws.write('assets/bert/model.bin', second);
    const build = await runNx(ws, ['run', 'bert:asset-image']);
    digests.second = await built();
    expect(digests.second).not.toBe(digests.first);
    expect(build.stdout + build.stderr).toContain(`keeps the tag(s) 0.1`);
    expect(build.stdout + build.stderr).not.toMatch(/keeps the tag\(s\)[^.]*latest/);

    const push = await runNx(ws, ['run', 'bert:asset-push', '--exclude-task-dependencies'], { reject: false });
    const out = push.stdout + push.stderr;
    expect(push.exitCode).not.toBe(0);
    expect(out).toContain(`${IMAGE}:0.1 names ${digests.first}`);
    expect(out).toContain(digests.second);
    expect(out).toContain('Add a new tag to assets/bert/asset.json "tags"');
    expect(out).toContain('"0.2"');
    expect(await tagDigest('0.1')).toBe(digests.first);
    expect(await tagDigest('latest')).toBe(digests.first);
  });

  it('with 0.2 added the push succeeds and latest moves; 0.1 keeps its content', async () => {
    await setTags(['0.2', 'latest']);
    const build = await runNx(ws, ['run', 'bert:asset-image']);
    expect(build.stdout + build.stderr).not.toContain('keeps the tag(s)');
    const push = await runNx(ws, ['run', 'bert:asset-push']);
    expect(push.stdout + push.stderr).toContain(`moved ${IMAGE}:latest from ${digests.first} to ${digests.second} (a mutable tag)`);
    expect(await tagDigest('0.2')).toBe(digests.second);
    expect(await tagDigest('latest')).toBe(digests.second);
    expect(await tagDigest('0.1')).toBe(digests.first);
  });

  it('--force moves a version tag, and says so', async () => {
    await setTags(['0.1', 'latest']);
    await runNx(ws, ['run', 'bert:asset-image']);
    const push = await runNx(ws, ['run', 'bert:asset-push', '--force']);
    expect(push.stdout + push.stderr).toContain(`moved ${IMAGE}:0.1 from ${digests.first} to ${digests.second} (forced (--force)`);
    expect(await tagDigest('0.1')).toBe(digests.second);
  });

  const buildkit = buildkitEnv();
  it.each([
    ['legacy builder', { DOCKER_BUILDKIT: '0' }],
    ['BuildKit', buildkit],
  ])('a digest-pinned COPY --from of the current build builds through docker-build (%s), with the bytes', async (_name, env) => {
    await ws.write('apps/api/Dockerfile', `FROM busybox\nCOPY --from=${IMAGE}@${digests.second} / /assets/bert/\n`);
    await removeImagesOf(APP_TAG);
    const run = await runNx(ws, ['run', 'api:docker-build'], { env });
    // DOCKER_BUILDKIT=0 asks for the legacy builder: no buildx contexts, also where buildx is the default (Docker 26).
    if (env.DOCKER_BUILDKIT === '0') expect(run.stdout).not.toContain('--build-context');
    const sums = await dockerRunRm(APP_TAG, ['sha256sum', '/assets/bert/model.bin']);
    expect(sums.stdout).toContain(`${sha256(second)}  /assets/bert/model.bin`);
  });

  it('a pin of an older build that only the registry holds builds with its bytes; an unknown digest names the fix', async () => {
    await ws.write(
      'apps/api/Dockerfile',
      `ARG BERT=${IMAGE}:0.1@${digests.first}\nFROM \${BERT} AS bert\nFROM busybox\nCOPY --from=bert / /assets/bert/\n`,
    );
    await removeImagesOf(IMAGE, APP_TAG);
    rmSync(ws.path('.asset-images/oci'), { recursive: true, force: true }); // only the registry has the older build now
    const build = await runNx(ws, ['run', 'api:docker-build'], { env: buildkit });
    if (e2eEngine() === '26') {
      // buildx and the containerd store (docker-build's default there): the pinned index goes into the layout store
      // and BuildKit reads it as the context named as the ARG resolves; nothing is loaded into Docker.
      expect(build.stdout).toContain(`${IMAGE}:0.1@${digests.first}: the pinned build, pulled from the registry into the layout store`);
      expect(build.stdout).toContain(`--build-context ${IMAGE}:0.1@${digests.first}=oci-layout://`);
    } else {
      expect(build.stdout).toContain(`${IMAGE}:sha256-${digests.first!.slice(7, 27)} loaded from the registry`);
    }
    const sums = await dockerRunRm(APP_TAG, ['sha256sum', '/assets/bert/model.bin']);
    expect(sums.stdout).toContain(`${sha256(first)}  /assets/bert/model.bin`);

    const unknown = `sha256:${'e'.repeat(64)}`;
    await ws.write('apps/api/Dockerfile', `FROM busybox\nCOPY --from=${IMAGE}@${unknown} / /assets/bert/\n`);
    const failed = await runNx(ws, ['run', 'api:docker-build'], { reject: false });
    const out = failed.stdout + failed.stderr;
    expect(failed.exitCode).not.toBe(0);
    expect(out).toContain(`apps/api/Dockerfile:2: ${IMAGE}@${unknown}`);
    expect(out).toContain('neither in this workspace');
    expect(out).toContain('nx run bert:asset-push');
  });
});
