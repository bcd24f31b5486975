// The asset-push target end to end: real nx in a temp workspace, the test
// run's registries (plain and htpasswd), skopeo, and the test dockerd as the
// consumer. What the user is promised: the registry holds exactly the image
// that was built (same manifest digest, byte-identical files), credentials
// come from Docker's config and never show up in output, a second push moves
// no bytes, a blob shared with another asset is mounted rather than uploaded,
// and a machine without the weights gets the image back from the registry.
import { randomBytes } from 'node:crypto';
import { cpSync, mkdirSync, readFileSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveAssetIndex } from '../packages/nx-asset-images/src/resolve/resolve-asset-index';
import { docker } from './support/docker';
import { exec } from './support/exec';
import { servicesEnv } from './support/services';
import { createWorkspace, git, runNx, type Workspace } from './support/workspace';
import { sha256 } from './support/sha256';
import { removeTempDirs, tempDir } from './support/temp-dirs';
import { readResult } from './support/asset-image-result';
import { imageFiles } from './support/image-files';

const RUN = randomBytes(3).toString('hex');

interface Counts {
  uploaded: number;
  skipped: number;
  mounted: number;
}

/** The executor's summary line: "Pushed sha256:... in 0.12 s: 2 blob(s) uploaded (6.0 MiB), 1 skipped (already there), 0 mounted". */
function pushCounts(output: string): Counts {
  const m =
    /Pushed sha256:[0-9a-f]{64} in [\d.]+ s: (\d+) blob\(s\) uploaded \([^)]*\), (\d+) skipped \(already there\), (\d+) mounted/.exec(
      output,
    );
  if (!m) throw new Error(`no push summary in:\n${output}`);
  return { uploaded: Number(m[1]), skipped: Number(m[2]), mounted: Number(m[3]) };
}

function dockerConfigDir(auths: Record<string, { user: string; password: string }>): string {
  const dir = tempDir('nxai-dockercfg-');
  const config = {
    auths: Object.fromEntries(
      Object.entries(auths).map(([host, c]) => [host, { auth: Buffer.from(`${c.user}:${c.password}`).toString('base64') }]),
    ),
  };
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
  return dir;
}

describe('asset-push', () => {
  const services = servicesEnv();
  const REG = services.NXAI_REGISTRY;
  const AUTH_REG = services.NXAI_AUTH_REGISTRY;
  const BERT = `${REG}/asset/e2e-push-bert-${RUN}`;
  const BERT_Q = `${REG}/asset/e2e-push-bertq-${RUN}`;
  const SECRET = `${AUTH_REG}/asset/e2e-push-secret-${RUN}`;
  const weight = randomBytes(6 * 1024 * 1024 + 5);
  const secretWeight = randomBytes(5 * 1024 * 1024 + 3);
  let ws: Workspace;

  beforeAll(async () => {
    ws = await createWorkspace({
      '.gitignore': 'dist\n.asset-images\n*.bin\n',
      // 4 MiB: each weight gets a layer of its own, so the same weight at the same path is the same layer in both assets.
      'nx.json': `${JSON.stringify({ plugins: [{ plugin: 'nx-asset-images', options: { largeFileThreshold: 4194304 } }] })}\n`,
      'assets/bert/asset.json': `${JSON.stringify({ image: BERT, tags: ['0.1'] })}\n`,
      'assets/bert/model.bin': weight,
      'assets/bert/config.json': '{"hidden_size":768}\n',
      'assets/bert-q/asset.json': `${JSON.stringify({ image: BERT_Q, tags: ['0.1'] })}\n`,
      'assets/bert-q/model.bin': weight,
      'assets/bert-q/config.json': '{"hidden_size":768,"quantized":true}\n',
      'assets/secret/asset.json': `${JSON.stringify({ image: SECRET, tags: ['1'] })}\n`,
      'assets/secret/model.bin': secretWeight,
    });
  });
  afterAll(async () => {
    await ws?.dispose();
    removeTempDirs();
  });

  it('pushes to a plain registry: skopeo sees the built manifest digest, and docker pull gives byte-identical files', async () => {
    const run = await runNx(ws, ['run', 'assets-bert:asset-push']);
    const result = readResult(ws, 'assets-bert');
    const out = run.stdout + run.stderr;
    for (const tag of ['0.1', result.contentTag]) expect(out).toContain(`${BERT}:${tag}@${result.manifestDigest}`);
    // the two configs (linux/amd64 and linux/arm64, the default) + the small-file layer + the weight layer, all
    // new; the layers go up once for both platforms
    expect(pushCounts(out)).toEqual({ uploaded: 4, skipped: 0, mounted: 0 });

    for (const tag of ['0.1', result.contentTag]) {
      const info = JSON.parse((await exec('skopeo', ['inspect', '--tls-verify=false', `docker://${BERT}:${tag}`])).stdout) as {
        Digest: string;
      };
      expect(info.Digest).toBe(result.manifestDigest);
    }

    // Docker must get the image from the registry, not from the copy asset-image loaded.
    await docker(['rmi', '--force', ...result.references], { reject: false });
    await docker(['pull', `${BERT}:0.1`]);
    const digests = (await docker(['image', 'inspect', '--format', '{{json .RepoDigests}}', `${BERT}:0.1`])).stdout;
    expect(digests).toContain(`${BERT}@${result.manifestDigest}`);
    const id = (await docker(['create', `${BERT}:0.1`, '/nothing'])).stdout.trim();
    const dir = tempDir('nxai-pushcp-');
    try {
      for (const file of ['model.bin', 'config.json']) {
        await docker(['cp', `${id}:/${file}`, path.join(dir, file)]);
        expect(sha256(readFileSync(path.join(dir, file))), file).toBe(sha256(readFileSync(ws.path('assets/bert', file))));
      }
    } finally {
      await docker(['rm', id], { reject: false });
    }
  });

  it('pushes again with nothing changed: no blob uploaded', async () => {
    const run = await runNx(ws, ['run', 'assets-bert:asset-push']);
    expect(pushCounts(run.stdout + run.stderr)).toEqual({ uploaded: 0, skipped: 4, mounted: 0 });
  });

  it('a second asset with the same weight at the same path mounts that layer from the first asset instead of uploading it', async () => {
    const run = await runNx(ws, ['run', 'assets-bert-q:asset-push']);
    const bert = readResult(ws, 'assets-bert');
    const q = readResult(ws, 'assets-bert-q');
    const shared = q.layers.filter((l) => bert.layers.some((b) => b.digest === l.digest));
    expect(shared.map((l) => l.files)).toEqual([['model.bin']]);
    const counts = pushCounts(run.stdout + run.stderr);
    // the two configs and the config.json layer are new; the weight layer is not uploaded
    expect(counts.uploaded).toBe(3);
    expect(counts.mounted + counts.skipped).toBe(1);
    expect(counts.mounted).toBe(1);
    const info = JSON.parse((await exec('skopeo', ['inspect', '--tls-verify=false', `docker://${BERT_Q}:0.1`])).stdout) as {
      Digest: string;
      Layers: string[];
    };
    expect(info.Digest).toBe(q.manifestDigest);
    expect(info.Layers).toContain(shared[0]!.digest);
  });

  it('pushes to an htpasswd registry with credentials from DOCKER_CONFIG; --tags=1 on the command line is the tag "1"', async () => {
    const config = dockerConfigDir({ [AUTH_REG]: { user: services.NXAI_AUTH_USER, password: services.NXAI_AUTH_PASSWORD } });
    // Nx hands `--tags=1` to the (forked) executor as the number 1: it is read back as written.
    const run = await runNx(ws, ['run', 'assets-secret:asset-push', '--tags=1'], { env: { DOCKER_CONFIG: config } });
    const result = readResult(ws, 'assets-secret');
    const out = run.stdout + run.stderr;
    expect(out).toContain(`${SECRET}:1@${result.manifestDigest}`);
    expect(out).not.toContain(services.NXAI_AUTH_PASSWORD);
    const info = JSON.parse(
      (
        await exec('skopeo', [
          'inspect',
          '--tls-verify=false',
          '--creds',
          `${services.NXAI_AUTH_USER}:${services.NXAI_AUTH_PASSWORD}`,
          `docker://${SECRET}:1`,
        ])
      ).stdout,
    ) as { Digest: string };
    expect(info.Digest).toBe(result.manifestDigest);
  });

  it('a wrong password fails with a message naming the registry, never the password', async () => {
    const wrong = `wrong-${randomBytes(8).toString('hex')}`;
    const config = dockerConfigDir({ [AUTH_REG]: { user: services.NXAI_AUTH_USER, password: wrong } });
    const run = await runNx(ws, ['run', 'assets-secret:asset-push'], {
      env: { DOCKER_CONFIG: config, NX_VERBOSE_LOGGING: 'true' },
      reject: false,
    });
    const out = run.stdout + run.stderr;
    expect(run.exitCode).not.toBe(0);
    expect(out).toContain(AUTH_REG);
    expect(out).toMatch(/authentication to .* failed/);
    expect(out).toContain(services.NXAI_AUTH_USER);
    for (const secret of [wrong, Buffer.from(`${services.NXAI_AUTH_USER}:${wrong}`).toString('base64'), services.NXAI_AUTH_PASSWORD]) {
      expect(out).not.toContain(secret);
    }
  });

  it('a fresh clone without the weights (image.json from the cache) gets the image from the registry by digest, byte for byte', async () => {
    const bert = readResult(ws, 'assets-bert');
    const clone = path.join(tempDir('nxai-clone-'), 'ws');
    await git(ws, 'clone', '-q', ws.root, clone);
    expect(existsSync(path.join(clone, 'assets/bert/model.bin'))).toBe(false);
    symlinkSync(ws.path('node_modules'), path.join(clone, 'node_modules'), 'dir');
    // What a remote cache hit of asset-image restores: the small result only.
    mkdirSync(path.join(clone, 'dist/asset-images/assets-bert'), { recursive: true });
    cpSync(ws.path('dist/asset-images/assets-bert/image.json'), path.join(clone, 'dist/asset-images/assets-bert/image.json'));

    // Without a registry there are no bytes; the error says why for each place it looked.
    await expect(resolveAssetIndex(clone, 'assets/bert/asset.json', bert, { pull: false })).rejects.toThrow(/layout|sources/);

    // The default build is an index over linux/amd64 and linux/arm64: every platform comes back, over the same layers.
    const { index, origin } = await resolveAssetIndex(clone, 'assets/bert/asset.json', bert, { pull: {} });
    expect(origin).toBe('registry');
    expect(index.index.descriptor.digest).toBe(bert.manifestDigest);
    expect(index.images.map((i) => `${i.platform.os}/${i.platform.architecture}`)).toEqual(['linux/amd64', 'linux/arm64']);
    const [amd64, arm64] = index.images.map((i) => i.image);
    expect(arm64!.layers.map((l) => l.descriptor.digest)).toEqual(amd64!.layers.map((l) => l.descriptor.digest));
    const files = await imageFiles(amd64!.layers);
    expect(files.get('model.bin')).toBe(sha256(weight));
    expect(files.get('config.json')).toBe(sha256(readFileSync(ws.path('assets/bert/config.json'))));
  });
});
