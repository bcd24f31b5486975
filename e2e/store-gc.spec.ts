// Garbage collection of the local store (.asset-images), end to end: real nx, the test run's dockerd,
// skopeo and umoci. What the user is promised: after each build the store keeps the current image
// complete plus the history they chose and nothing older (blobs, index entries, the plugin's own
// Docker content tags; never a tag they made); `npx nx-asset-images gc` does the same by hand and
// `--dry-run` removes nothing; gc during a build waits for it, and both end correct.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { docker, dockerEnv } from './support/docker';
import { exec, type ExecResult } from './support/exec';
import { withUmociRootfs } from './support/umoci';
import { createWorkspace, runNx, type Workspace } from './support/workspace';
import { sha256 } from './support/sha256';
import { readResult, type AssetImageResult } from './support/asset-image-result';

const PROJECT = 'assets-w';
const MiB = 1024 * 1024;

function files(image: string, weight: Buffer, pluginOptions: Record<string, unknown>): Record<string, string | Buffer> {
  return {
    '.gitignore': 'dist\n.asset-images\nassets/w/*.bin\n',
    'assets/w/asset.json': `${JSON.stringify({ image, tags: ['latest'] }, null, 2)}\n`,
    'assets/w/model.bin': weight,
    'assets/w/config.json': '{"v":1}\n',
    // One platform (a plain manifest) and a 1 MiB threshold: the weight is a layer of its own.
    'nx.json': `${JSON.stringify({
      plugins: [{ plugin: 'nx-asset-images', options: { largeFileThreshold: MiB, platforms: ['linux/amd64'], ...pluginOptions } }],
    })}\n`,
  };
}

const blobFile = (ws: Workspace, digest: string) => ws.path('.asset-images/oci/blobs/sha256', digest.slice('sha256:'.length));
const indexDigests = (ws: Workspace): string[] =>
  (JSON.parse(readFileSync(ws.path('.asset-images/oci/index.json'), 'utf8')) as { manifests: { digest: string }[] }).manifests.map(
    (m) => m.digest,
  );
const blobBytes = (ws: Workspace): number =>
  readdirSync(ws.path('.asset-images/oci/blobs/sha256')).reduce((sum, name) => sum + statSync(blobFile(ws, `sha256:${name}`)).size, 0);

async function build(ws: Workspace, weight: Buffer): Promise<{ result: AssetImageResult; stdout: string }> {
  await ws.write('assets/w/model.bin', weight);
  const run = await runNx(ws, ['run', `${PROJECT}:asset-image`, '--load=true', '--ociLayout=true', '--skip-nx-cache']);
  return { result: readResult(ws, PROJECT), stdout: run.stdout };
}

async function expectComplete(ws: Workspace, image: string, result: AssetImageResult, weight: Buffer): Promise<void> {
  for (const layer of result.layers) expect(existsSync(blobFile(ws, layer.digest)), layer.digest).toBe(true);
  await withUmociRootfs(ws.path('.asset-images/oci'), `${image}:${result.contentTag}`, (rootfs) => {
    expect(sha256(readFileSync(path.join(rootfs, 'model.bin')))).toBe(sha256(weight));
    expect(readFileSync(path.join(rootfs, 'config.json'), 'utf8')).toBe('{"v":1}\n');
  });
}

async function dockerTags(image: string): Promise<string[]> {
  const { stdout } = await docker(['image', 'ls', '--format', '{{.Tag}}', image]);
  return stdout.split('\n').filter(Boolean).sort();
}

/**
 * Waits until the running build holds its store lease, and not the gc mutex (taking a lease holds it an instant),
 * then stops the build's process (SIGSTOP): it keeps the lease, and does nothing, until SIGCONT. Returns its pid.
 */
async function holdBuildWithLease(ws: Workspace, leases: string): Promise<number> {
  const mutex = ws.path('.asset-images/gc.lock');
  return vi.waitFor(
    () => {
      const names = existsSync(leases) ? readdirSync(leases).filter((name) => name.endsWith('.json')) : [];
      expect(names).toHaveLength(1);
      const pid = Number(names[0]!.split('-')[0]);
      process.kill(pid, 'SIGSTOP');
      if (existsSync(mutex)) {
        process.kill(pid, 'SIGCONT');
        throw new Error('the build holds the gc mutex: let it go on');
      }
      return pid;
    },
    { timeout: 120_000, interval: 20 },
  );
}

function npxGc(ws: Workspace, ...args: string[]) {
  return exec('npx', ['--no-install', 'nx-asset-images', 'gc', ...args], { cwd: ws.root, env: dockerEnv(), timeoutMs: 120_000 });
}

const workspaces: Workspace[] = [];
afterAll(async () => {
  for (const ws of workspaces) await ws.dispose();
});

describe('store gc', () => {
  it('prunes after every build: the current image complete, the history kept, the oldest version and its content tag gone, a user tag kept', async () => {
    const image = 'localhost:5000/asset/e2e-gc-auto';
    const versions = [1, 2, 3, 4].map(() => randomBytes(3 * MiB + 11));
    const ws = await createWorkspace(files(image, versions[0]!, { storeHistory: 1 }));
    workspaces.push(ws);

    const results: AssetImageResult[] = [];
    for (const [i, weight] of versions.entries()) {
      results.push((await build(ws, weight)).result);
      // A tag the user makes on the first build: gc never removes it.
      if (i === 0) await docker(['tag', `${image}:${results[0]!.contentTag}`, `${image}:mine`]);
    }
    const [v1, v2, v3, v4] = results as [AssetImageResult, AssetImageResult, AssetImageResult, AssetImageResult];
    const weightLayer = (r: AssetImageResult) => r.layers.find((l) => l.files.includes('model.bin'))!.digest;

    // storeHistory 1: v4 (current) and v3 stay; v1 and v2 are gone from the layout...
    await expectComplete(ws, image, v4, versions[3]!);
    for (const gone of [v1, v2]) {
      expect(existsSync(blobFile(ws, gone.manifestDigest))).toBe(false);
      expect(existsSync(blobFile(ws, weightLayer(gone)))).toBe(false);
      expect(indexDigests(ws)).not.toContain(gone.manifestDigest);
    }
    expect(existsSync(blobFile(ws, weightLayer(v3)))).toBe(true);
    expect(indexDigests(ws)).toContain(v3.manifestDigest);
    // ...the store holds at most the current image plus the history (two weights and small blobs)...
    expect(blobBytes(ws)).toBeLessThan(2 * versions[0]!.length + MiB);
    // ...and Docker: the old content tags are gone, the kept ones and the user's stay.
    const tags = await dockerTags(image);
    expect(tags).toContain(v4.contentTag);
    expect(tags).toContain(v3.contentTag);
    expect(tags).toContain('mine');
    expect(tags).toContain('latest');
    expect(tags).not.toContain(v1.contentTag);
    expect(tags).not.toContain(v2.contentTag);
    // The user's tag still names the first build's image.
    const { stdout: mineConfig } = await docker(['image', 'inspect', '--format', '{{.Id}}', `${image}:mine`]);
    expect(mineConfig.trim()).toBe(v1.configDigest);
  });

  it('npx nx-asset-images gc in a fresh workspace: --dry-run prints what it would free and removes nothing, gc frees it', async () => {
    const image = 'localhost:5000/asset/e2e-gc-manual';
    const v1Weight = randomBytes(2 * MiB + 5);
    const v2Weight = randomBytes(2 * MiB + 7);
    // gc: false: nothing pruned automatically, so the first version is still there.
    const ws = await createWorkspace(files(image, v1Weight, { gc: false }));
    workspaces.push(ws);
    const v1 = (await build(ws, v1Weight)).result;
    const v2 = (await build(ws, v2Weight)).result;
    expect(existsSync(blobFile(ws, v1.manifestDigest))).toBe(true);

    const dry = await npxGc(ws, '--dry-run', '--history', '0');
    expect(dry.exitCode).toBe(0);
    expect(dry.stdout).toMatch(/would free \d+(\.\d+)? MiB/);
    expect(dry.stdout).toMatch(/blobs: \d+/);
    expect(dry.stdout).toContain(`docker tag ${image}:${v1.contentTag}`);
    expect(existsSync(blobFile(ws, v1.manifestDigest))).toBe(true);
    expect(await dockerTags(image)).toContain(v1.contentTag);

    const gc = await npxGc(ws, '--history', '0');
    expect(gc.exitCode).toBe(0);
    expect(gc.stdout).toMatch(/freed \d+(\.\d+)? MiB/);
    expect(existsSync(blobFile(ws, v1.manifestDigest))).toBe(false);
    expect(indexDigests(ws)).toEqual(indexDigests(ws).filter((d) => d === v2.manifestDigest));
    expect(await dockerTags(image)).not.toContain(v1.contentTag);
    await expectComplete(ws, image, v2, v2Weight);

    // Nothing left to free; a bad flag is a usage error.
    expect((await npxGc(ws)).stdout).toContain('nothing to remove');
    const bad = await exec('npx', ['--no-install', 'nx-asset-images', 'gc', '--history', 'many'], { cwd: ws.root, reject: false });
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain('usage: nx-asset-images gc');
  });

  it('gc during a concurrent build waits for it; both exit 0 and the build is complete', async () => {
    const image = 'localhost:5000/asset/e2e-gc-concurrent';
    const old = randomBytes(2 * MiB + 3);
    const weight = randomBytes(8 * MiB + 9);
    const ws = await createWorkspace(files(image, old, { gc: false, storeHistory: 0 }));
    workspaces.push(ws);
    const first = (await build(ws, old)).result;

    await ws.write('assets/w/model.bin', weight);
    const building = runNx(ws, ['run', `${PROJECT}:asset-image`, '--load=true', '--ociLayout=true', '--skip-nx-cache']);
    // The build holds a lease while its executor runs: once it has one (and has let the gc mutex go again), stop the
    // build's process where it stands, so gc meets the running build whatever its speed.
    const leases = ws.path('.asset-images/leases');
    const builder = await holdBuildWithLease(ws, leases);
    let gc: Promise<ExecResult> | undefined;
    try {
      // The CLI straight from node_modules/.bin (npx's own startup is covered above).
      let seen = '';
      let waiting!: () => void;
      const told = new Promise<void>((resolve) => (waiting = resolve));
      gc = exec(process.execPath, [ws.path('node_modules/.bin/nx-asset-images'), 'gc'], {
        cwd: ws.root,
        env: dockerEnv(),
        timeoutMs: 240_000,
        onStdout: (text) => {
          seen += text;
          if (seen.includes('waiting for 1 running build')) waiting();
        },
      });
      // gc says it waits for the build (and so has not run), or exits without waiting: the test fails either way.
      await Promise.race([told, gc.then((r) => Promise.reject(new Error(`gc ended without waiting:\n${r.stdout}${r.stderr}`)))]);
      expect(existsSync(blobFile(ws, first.manifestDigest))).toBe(true);
    } finally {
      process.kill(builder, 'SIGCONT');
    }
    const gcRun = await gc!;
    const built = await building;

    expect(gcRun.exitCode).toBe(0);
    expect(gcRun.stdout).toContain('waiting for 1 running build');
    expect(built.exitCode).toBe(0);
    const result = readResult(ws, PROJECT);
    expect(result.manifestDigest).not.toBe(first.manifestDigest);
    await expectComplete(ws, image, result, weight);
    // gc ran after the build: the earlier image is gone (storeHistory 0), the new one is the current result.
    expect(existsSync(blobFile(ws, first.manifestDigest))).toBe(false);
    expect(readdirSync(leases)).toEqual([]);
  });
});
