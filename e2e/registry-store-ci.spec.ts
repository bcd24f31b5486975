// The registry as the asset's store, on the machines that never have the
// weights (issue 12): a CI runner sharing an Nx remote cache with the machine
// that built and pushed, and a clone where Git LFS left pointer files. The
// remote cache is Nx's own client (NX_SELF_HOSTED_REMOTE_CACHE_SERVER) talking
// to a loopback server that implements Nx's published self-hosted cache
// contract (e2e/support/nx-cache-server.ts): a hosted cache cannot run here.
// Git LFS is the real git-lfs; the clone is made with GIT_LFS_SKIP_SMUDGE=1.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dockerRunRm, removeImagesOf } from './support/docker';
import { startNxCacheServer, type NxCacheServer } from './support/nx-cache-server';
import { servicesEnv } from './support/services';
import { cloneWorkspace, commitAll, createWorkspace, git, runNx, type Workspace } from './support/workspace';
import { sha256 } from './support/sha256';

const RUN = randomBytes(3).toString('hex');

const app = (tag: string, image: string) => ({
  'apps/api/project.json': `${JSON.stringify({ name: 'api', root: 'apps/api', targets: { 'docker-build': { options: { network: 'host', tags: [tag] } } } }, null, 2)}\n`,
  'apps/api/Dockerfile': `FROM busybox\nCOPY --from=${image}:0.1 / /assets/bert/\n`,
});
const NX_JSON = `${JSON.stringify({ plugins: [{ plugin: 'nx-asset-images', options: { largeFileThreshold: 1024 * 1024 } }] }, null, 2)}\n`;

describe('CI runner with a shared Nx remote cache, no weights', () => {
  const REG = servicesEnv().NXAI_REGISTRY;
  const IMAGE = `${REG}/nxai-e2e/ci-${RUN}`;
  const APP = `nxai-e2e/ci-app-${RUN}`;
  const weight = randomBytes(2 * 1024 * 1024 + 3);
  let ws: Workspace;
  let runner: Workspace | undefined;
  let cache: NxCacheServer;

  beforeAll(async () => {
    cache = await startNxCacheServer({ token: `rw-${RUN}` });
    ws = await createWorkspace({
      'nx.json': NX_JSON,
      '.gitignore': 'dist\n.asset-images\nweights/\n',
      'assets/bert/asset.json': `${JSON.stringify({ name: 'bert', image: IMAGE, tags: ['0.1'] }, null, 2)}\n`,
      'assets/bert/config.json': '{"layers": 2}\n',
      'assets/bert/weights/model.bin': weight,
      ...app(APP, IMAGE),
    });
    // The machine with the weights: builds (stored in the remote cache), pushes, commits the lock.
    await runNx(ws, ['run', 'bert:asset-push'], { env: cache.env() });
    await commitAll(ws, 'lock');
  }, 300_000);

  afterAll(async () => {
    await removeImagesOf(IMAGE, APP);
    await runner?.dispose();
    await ws?.dispose();
    await cache?.close();
  });

  it('the asset-image task is a remote cache hit (same content key without the bytes) and the app gets the weights', async () => {
    runner = await cloneWorkspace(ws);
    await removeImagesOf(IMAGE, APP);
    const lockBefore = await runner.read('assets/bert/asset.lock.json');
    const gets = cache.log.length;
    const run = await runNx(runner, ['run', 'api:docker-build'], { env: { ...cache.env(), CI: 'true' } });
    expect(run.stdout).toMatch(/nx run bert:asset-image\s+\[remote cache\]/);
    expect(cache.log.slice(gets).some((line) => /^GET \S+ 200$/.test(line))).toBe(true);
    const sums = await dockerRunRm(APP, ['sha256sum', '/assets/bert/weights/model.bin']);
    expect(sums.stdout).toContain(sha256(weight));
    expect(await runner.read('assets/bert/asset.lock.json')).toBe(lockBefore);
  });
});

describe('Git LFS pointers in place of the weights', () => {
  const REG = servicesEnv().NXAI_REGISTRY;
  const IMAGE = `${REG}/nxai-e2e/lfs-${RUN}`;
  const APP = `nxai-e2e/lfs-app-${RUN}`;
  const weight = randomBytes(2 * 1024 * 1024 + 5);
  let ws: Workspace;
  const clones: Workspace[] = [];

  beforeAll(async () => {
    ws = await createWorkspace({
      'nx.json': NX_JSON,
      '.gitignore': 'dist\n.asset-images\n',
      'assets/bert/asset.json': `${JSON.stringify({ name: 'bert', image: IMAGE, tags: ['0.1'] }, null, 2)}\n`,
      'assets/bert/config.json': '{"layers": 3}\n',
      ...app(APP, IMAGE),
    });
    await git(ws, 'lfs', 'install', '--local');
    await git(ws, 'lfs', 'track', 'assets/bert/weights/*.bin');
    await ws.write('assets/bert/weights/model.bin', weight);
    await runNx(ws, ['run', 'bert:asset-push']);
    await commitAll(ws, 'weights in LFS, lock');
    // The weight went into git as a pointer.
    expect((await git(ws, 'show', 'HEAD:assets/bert/weights/model.bin')).stdout).toMatch(
      /^version https:\/\/git-lfs\.github\.com\/spec\/v1\n/,
    );
  }, 300_000);

  afterAll(async () => {
    await removeImagesOf(IMAGE, APP);
    for (const c of clones) await c.dispose();
    await ws?.dispose();
  });

  it('a clone with GIT_LFS_SKIP_SMUDGE=1 builds the app with the real weight, never the pointer, and leaves the lock and the pointer alone', async () => {
    const clone = await cloneWorkspace(ws, { env: { GIT_LFS_SKIP_SMUDGE: '1' } });
    clones.push(clone);
    const pointer = readFileSync(clone.path('assets/bert/weights/model.bin'), 'utf8');
    expect(pointer).toContain(`oid sha256:${sha256(weight)}`);
    await removeImagesOf(IMAGE, APP);
    await runNx(clone, ['run', 'api:docker-build']);
    const sums = await dockerRunRm(APP, ['sha256sum', '/assets/bert/weights/model.bin']);
    expect(sums.stdout).toContain(`${sha256(weight)}  /assets/bert/weights/model.bin`);
    expect((await git(clone, 'status', '--porcelain')).stdout).toBe('');
    expect(readFileSync(clone.path('assets/bert/weights/model.bin'), 'utf8')).toBe(pointer);
  });

  it('asset-pull replaces the pointer with the verified file', async () => {
    const clone = await cloneWorkspace(ws, { env: { GIT_LFS_SKIP_SMUDGE: '1' } });
    clones.push(clone);
    await runNx(clone, ['run', 'bert:asset-pull']);
    expect(readFileSync(clone.path('assets/bert/weights/model.bin')).equals(weight)).toBe(true);
  });

  it('a pointer whose oid disagrees with the lock is an error naming the file', async () => {
    const clone = await cloneWorkspace(ws, { env: { GIT_LFS_SKIP_SMUDGE: '1' } });
    clones.push(clone);
    const other = sha256('another weight');
    await clone.write('assets/bert/weights/model.bin', `version https://git-lfs.github.com/spec/v1\noid sha256:${other}\nsize 14\n`);
    const run = await runNx(clone, ['run', 'bert:asset-image', '--load=false'], { reject: false });
    const out = run.stdout + run.stderr;
    expect(run.exitCode).not.toBe(0);
    expect(out).toContain('weights/model.bin');
    expect(out).toContain('Git LFS pointer');
    expect(out).toContain(other);
  });
});
