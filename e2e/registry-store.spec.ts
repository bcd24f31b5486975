// The registry as the asset's store (issue 12), end to end: real nx, the test
// dockerd and registry, git clones of a real repository. One machine has the
// weights (gitignored), builds, pushes and commits asset.lock.json (version 2,
// pinning the image). A teammate's fresh clone has no weights and no Nx cache:
// its app build gets the weights from the registry, byte for byte, and leaves
// the lock alone. `asset-pull` writes the absent files, verified and
// idempotently. The removal rule both ways, and a registry that lacks a blob.
// Each clone has its own NX_CACHE_DIRECTORY (runNx), so nothing comes from a
// shared local cache.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, unlinkSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dockerRunRm, removeImagesOf } from './support/docker';
import { startFaultProxy } from './support/fault-proxy';
import { hashStats } from './support/hash-stats';
import { servicesEnv } from './support/services';
import { cloneWorkspace, commitAll, createWorkspace, git, runNx, type Workspace } from './support/workspace';
import { sha256 } from './support/sha256';
import { readResult } from './support/asset-image-result';

const RUN = randomBytes(3).toString('hex');

describe('the registry is the asset store', () => {
  const services = servicesEnv();
  const REG = services.NXAI_REGISTRY;
  const IMAGE = `${REG}/nxai-e2e/store-${RUN}`;
  const APP_TAG = `nxai-e2e/store-app-${RUN}`;
  const weight = randomBytes(3 * 1024 * 1024 + 17);
  const config = '{"hidden_size": 8}\n';
  let ws: Workspace;

  const clones: Workspace[] = [];
  const clone = async (): Promise<Workspace> => {
    const c = await cloneWorkspace(ws);
    clones.push(c);
    return c;
  };

  beforeAll(async () => {
    ws = await createWorkspace({
      'nx.json': `${JSON.stringify({ plugins: [{ plugin: 'nx-asset-images', options: { largeFileThreshold: 1024 * 1024 } }] }, null, 2)}\n`,
      '.gitignore': 'dist\n.asset-images\nweights/\n',
      'assets/bert/asset.json': `${JSON.stringify({ name: 'bert', image: IMAGE, tags: ['0.1'] }, null, 2)}\n`,
      'assets/bert/config.json': config,
      'assets/bert/weights/model.bin': weight,
      'apps/api/project.json': `${JSON.stringify({ name: 'api', root: 'apps/api', targets: { 'docker-build': { options: { network: 'host', tags: [APP_TAG] } } } }, null, 2)}\n`,
      'apps/api/Dockerfile': `FROM busybox\nCOPY --from=${IMAGE}:0.1 / /assets/bert/\n`,
    });
    await runNx(ws, ['run', 'bert:asset-image']);
    await runNx(ws, ['run', 'bert:asset-push']);
    await commitAll(ws, 'lock');
  }, 300_000);

  afterAll(async () => {
    await removeImagesOf(IMAGE, APP_TAG);
    await ws?.dispose();
    for (const c of clones) await c.dispose();
  });

  it('the committed lock (version 2) pins every file with its mode and the image with its layers', async () => {
    const lock = JSON.parse(await ws.read('assets/bert/asset.lock.json'));
    const result = readResult(ws, 'bert');
    expect(lock.lockfileVersion).toBe(2);
    expect(lock.files['weights/model.bin']).toEqual({ size: weight.length, sha256: sha256(weight), mode: 0o644 });
    expect(lock.image.manifest).toBe(result.manifestDigest);
    const weightLayer = lock.image.layers.find((l: { files: string[] }) => l.files.includes('weights/model.bin'));
    expect(weightLayer.files).toEqual(['weights/model.bin']);
    expect(weightLayer.diffID).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(weightLayer.size).toBeGreaterThan(weight.length);
  });

  it("a teammate's fresh clone without the weights builds the app with them, byte for byte, and leaves the lock alone", async () => {
    const teammate = await clone();
    expect(existsSync(teammate.path('assets/bert/weights/model.bin'))).toBe(false);
    await removeImagesOf(IMAGE, APP_TAG);
    const lockBefore = await teammate.read('assets/bert/asset.lock.json');
    const built = await runNx(teammate, ['run', 'api:docker-build']);
    expect(built.stdout).not.toContain('Updated assets/bert/asset.lock.json');
    const sums = await dockerRunRm(APP_TAG, ['sha256sum', '/assets/bert/weights/model.bin', '/assets/bert/config.json']);
    expect(sums.stdout).toContain(`${sha256(weight)}  /assets/bert/weights/model.bin`);
    expect(sums.stdout).toContain(`${sha256(config)}  /assets/bert/config.json`);
    expect(await teammate.read('assets/bert/asset.lock.json')).toBe(lockBefore);
    expect((await git(teammate, 'status', '--porcelain')).stdout).toBe('');
    const result = readResult(teammate, 'bert');
    expect(result.manifestDigest).toBe(JSON.parse(lockBefore).image.manifest);
  });

  it('digest-only on a clone without the weights fetches nothing: the same manifest digest, no request to the registry, no blob in the store', async () => {
    const other = await clone();
    // The registry the lock names, behind a counting proxy (no faults): every request the clone makes to it is seen.
    const proxy = await startFaultProxy({ target: REG, seed: 1, rate: 0 });
    try {
      const lock = JSON.parse(await other.read('assets/bert/asset.lock.json'));
      const viaProxy = `${proxy.host}/nxai-e2e/store-${RUN}`;
      expect(lock.image.repository).toBe(IMAGE);
      await other.write(
        'assets/bert/asset.lock.json',
        `${JSON.stringify({ ...lock, image: { ...lock.image, repository: viaProxy } }, null, 2)}\n`,
      );
      const asset = JSON.parse(await other.read('assets/bert/asset.json'));
      await other.write('assets/bert/asset.json', `${JSON.stringify({ ...asset, image: viaProxy }, null, 2)}\n`);

      await runNx(other, ['run', 'bert:asset-image', '--load=false', '--ociLayout=false']);
      const result = readResult(other, 'bert');
      expect(result.manifestDigest).toBe(lock.image.manifest);
      expect(proxy.requests).toEqual([]);
      expect(existsSync(other.path('.asset-images/oci/blobs'))).toBe(false);

      // The count would have seen a fetch: asset-pull on the same clone gets the weight's layer through the proxy.
      await runNx(other, ['run', 'bert:asset-pull']);
      const weightLayer = lock.image.layers.find((l: { files: string[] }) => l.files.includes('weights/model.bin')).digest;
      expect(proxy.requests.filter((r) => r.method === 'GET' && r.path.endsWith(`/blobs/${weightLayer}`)).length).toBeGreaterThan(0);
      expect(sha256(readFileSync(other.path('assets/bert/weights/model.bin')))).toBe(sha256(weight));
    } finally {
      await proxy.close();
    }
  });

  it('asset-pull writes the absent weight, verified, with the lock mode; a second run fetches nothing; a --files glob takes a subset', async () => {
    const other = await clone();
    const none = await runNx(other, ['run', 'bert:asset-pull', '--files=nothing/*']);
    expect(none.stdout).toContain('not matching --files');
    expect(existsSync(other.path('assets/bert/weights/model.bin'))).toBe(false);
    const pulled = await runNx(other, ['run', 'bert:asset-pull']);
    expect(pulled.stdout).toContain('wrote 1 file(s)');
    const bytes = readFileSync(other.path('assets/bert/weights/model.bin'));
    expect(sha256(bytes)).toBe(sha256(weight));
    const again = await runNx(other, ['run', 'bert:asset-pull']);
    expect(again.stdout).toContain('every file the lock pins is here');
    expect(readFileSync(other.path('assets/bert/weights/model.bin')).equals(weight)).toBe(true);
    // asset-pull told the stat cache what it wrote (the lock's content, verified): the next build reads none of
    // the weight, and its layer digest from that record is right (the lock, pinning the manifest, is unchanged).
    const lockBefore = await other.read('assets/bert/asset.lock.json');
    const stats = other.path('hash-stats.jsonl');
    await runNx(other, ['run', 'bert:asset-image', '--load=false', '--skip-nx-cache'], { env: { NX_ASSET_IMAGES_HASH_STATS: stats } });
    const lines = hashStats(stats);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.reduce((n, s) => n + s.bytesRead, 0)).toBeLessThan(weight.length);
    expect(await other.read('assets/bert/asset.lock.json')).toBe(lockBefore);
  });

  it('a config edit without the weights builds and pushes a new image that reuses the weight layer; a third clone gets the new config and the original weight', async () => {
    const editor = await clone();
    const newConfig = '{"hidden_size": 16}\n';
    await editor.write('assets/bert/config.json', newConfig);
    // New content is a new version: 0.1 keeps naming the original (asset-push refuses to move a version tag).
    const asset = JSON.parse(await editor.read('assets/bert/asset.json'));
    await editor.write('assets/bert/asset.json', `${JSON.stringify({ ...asset, tags: ['0.2'] }, null, 2)}\n`);
    await editor.write('apps/api/Dockerfile', `FROM busybox\nCOPY --from=${IMAGE}:0.2 / /assets/bert/\n`);
    await removeImagesOf(IMAGE, APP_TAG);
    await runNx(editor, ['run', 'bert:asset-image', '--load=false']);
    const lock = JSON.parse(await editor.read('assets/bert/asset.lock.json'));
    const original = JSON.parse(await ws.read('assets/bert/asset.lock.json'));
    expect(lock.image.manifest).not.toBe(original.image.manifest);
    const weightLayer = (l: { files: string[] }) => l.files.includes('weights/model.bin');
    expect(lock.image.layers.find(weightLayer)).toEqual(original.image.layers.find(weightLayer));
    // The weight layer is in the registry already: the push skips it, so no byte of it is needed here.
    // (Without its asset-image dependency, which by default loads into Docker and so would need the weight's bytes.)
    const push = await runNx(editor, ['run', 'bert:asset-push', '--exclude-task-dependencies']);
    expect(push.stdout).toMatch(/\b0 mounted/);
    expect(existsSync(editor.path('.asset-images/oci/blobs/sha256', original.image.layers.find(weightLayer).digest.slice(7)))).toBe(false);
    // Commit the edit upstream, then a third clone builds the app.
    await git(editor, 'commit', '-qam', 'new config');
    await git(editor, 'push', '-q', 'origin', 'HEAD:refs/heads/edited');
    const third = await clone();
    await git(third, 'checkout', '-q', 'edited');
    await removeImagesOf(IMAGE, APP_TAG);
    await runNx(third, ['run', 'api:docker-build']);
    const sums = await dockerRunRm(APP_TAG, ['sha256sum', '/assets/bert/weights/model.bin', '/assets/bert/config.json']);
    expect(sums.stdout).toContain(`${sha256(weight)}  /assets/bert/weights/model.bin`);
    expect(sums.stdout).toContain(`${sha256(newConfig)}  /assets/bert/config.json`);
  });

  it('asset.json renamed to another repository where the weights are absent: the push mounts the weight layer from the one the lock names, downloading nothing', async () => {
    const renamer = await clone();
    const original = JSON.parse(await ws.read('assets/bert/asset.lock.json'));
    expect(original.image.repository).toBe(IMAGE);
    const RENAMED = `${REG}/nxai-e2e/renamed-${RUN}`;
    const asset = JSON.parse(await renamer.read('assets/bert/asset.json'));
    await renamer.write('assets/bert/asset.json', `${JSON.stringify({ ...asset, image: RENAMED }, null, 2)}\n`);
    await runNx(renamer, ['run', 'bert:asset-image', '--load=false']);
    const lock = JSON.parse(await renamer.read('assets/bert/asset.lock.json'));
    // The weight layer is carried over from the lock: it is still where the lock said, not yet in the renamed repository.
    expect(lock.image.repository).toBe(IMAGE);
    const push = await runNx(renamer, ['run', 'bert:asset-push', '--exclude-task-dependencies']);
    expect(push.stdout).toContain(`mounting from nxai-e2e/store-${RUN}`);
    expect(push.stdout).toMatch(/\b[1-9]\d* mounted/);
    const weightDigest = lock.image.layers.find((l: { files: string[] }) => l.files.includes('weights/model.bin')).digest;
    expect(existsSync(renamer.path('.asset-images/oci/blobs/sha256', weightDigest.slice(7)))).toBe(false);
    // The renamed repository now holds the weight: a clone of the rename builds the app from it.
    await git(renamer, 'commit', '-qam', 'rename');
    await git(renamer, 'push', '-q', 'origin', 'HEAD:refs/heads/renamed');
    const next = await clone();
    await git(next, 'checkout', '-q', 'renamed');
    const nextLock = JSON.parse(await next.read('assets/bert/asset.lock.json'));
    nextLock.image.repository = RENAMED; // only the renamed repository is asked
    await next.write('assets/bert/asset.lock.json', `${JSON.stringify(nextLock, null, 2)}\n`);
    await runNx(next, ['run', 'bert:asset-pull']);
    expect(sha256(readFileSync(next.path('assets/bert/weights/model.bin')))).toBe(sha256(weight));
    await removeImagesOf(RENAMED);
  });

  it('a file this workspace had and deleted is removed from the lock; one it never had stays pinned (absent)', async () => {
    // Never had it: a clone builds, the weight stays in the lock.
    const fresh = await clone();
    await runNx(fresh, ['run', 'bert:asset-image', '--load=false']);
    expect(JSON.parse(await fresh.read('assets/bert/asset.lock.json')).files['weights/model.bin']).toBeDefined();
    // Had it (pulled, so this workspace has seen it), then deleted it: removed.
    await runNx(fresh, ['run', 'bert:asset-pull']);
    await runNx(fresh, ['run', 'bert:asset-image', '--load=false']);
    unlinkSync(fresh.path('assets/bert/weights/model.bin'));
    const removed = await runNx(fresh, ['run', 'bert:asset-image', '--load=false']);
    expect(removed.stdout).toContain('Updated assets/bert/asset.lock.json');
    const lock = JSON.parse(await fresh.read('assets/bert/asset.lock.json'));
    expect(lock.files['weights/model.bin']).toBeUndefined();
    expect(lock.image.layers.flatMap((l: { files: string[] }) => l.files)).toEqual(['config.json']);
  });

  it('an asset whose weight layer the registry lacks: the error names the file, the digest, the registry and the fix', async () => {
    const other = await clone();
    // Point the asset and its lock at a repository nothing was pushed to: the lock still pins the layers.
    const asset = JSON.parse(await other.read('assets/bert/asset.json'));
    await other.write('assets/bert/asset.json', `${JSON.stringify({ ...asset, image: `${REG}/nxai-e2e/never-pushed-${RUN}` }, null, 2)}\n`);
    const lock = JSON.parse(await other.read('assets/bert/asset.lock.json'));
    lock.image.repository = `${REG}/nxai-e2e/never-pushed-${RUN}`;
    await other.write('assets/bert/asset.lock.json', `${JSON.stringify(lock, null, 2)}\n`);
    const run = await runNx(other, ['run', 'bert:asset-pull'], { reject: false });
    const out = run.stdout + run.stderr;
    expect(run.exitCode).not.toBe(0);
    const layer = lock.image.layers.find((l: { files: string[] }) => l.files.includes('weights/model.bin'));
    expect(out).toContain('weights/model.bin');
    expect(out).toContain(layer.digest);
    expect(out).toContain(`${REG}/nxai-e2e/never-pushed-${RUN}`);
    expect(out).toContain('nx run bert:asset-push');
    expect(existsSync(other.path('assets/bert/weights/model.bin'))).toBe(false);
  });

  it('with CI=true a clone without the weights never rewrites the lock, and a present file that differs is an error', async () => {
    const ci = await clone();
    const lockBefore = await ci.read('assets/bert/asset.lock.json');
    await runNx(ci, ['run', 'bert:asset-image', '--load=false'], { env: { CI: 'true' } });
    expect(await ci.read('assets/bert/asset.lock.json')).toBe(lockBefore);
    await ci.write('assets/bert/config.json', '{"changed": true}\n');
    const run = await runNx(ci, ['run', 'bert:asset-image', '--load=false', '--skip-nx-cache'], { env: { CI: 'true' }, reject: false });
    expect(run.exitCode).not.toBe(0);
    expect(run.stdout + run.stderr).toContain('does not match');
    expect(run.stdout + run.stderr).toContain('config.json');
    expect(await ci.read('assets/bert/asset.lock.json')).toBe(lockBefore);
  });
});
