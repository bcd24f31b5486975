// The asset-image target end to end: real nx in a temp workspace, the real
// dockerd of the test run, skopeo and umoci. What the user is promised: the
// image holds the files byte for byte, Docker's COPY --from takes it, the
// digest is the same on every machine, a changed weight is never a cache hit,
// an unchanged one is never read again, and bad input is one clear error.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { symlink } from 'node:fs/promises';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dockerImageId } from '../packages/nx-asset-images/src/transports/docker-load';
import { docker, dockerBuild, dockerRunRm, e2eEngine, expectedDockerId } from './support/docker';
import { readLoadArchive, startDockerLoadSpy } from './support/docker-load-spy';
import { withUmociRootfs } from './support/umoci';
import { exec } from './support/exec';
import { hashStats } from './support/hash-stats';
import { commitAll, createWorkspace, runNx, type Workspace } from './support/workspace';
import { sha256 } from './support/sha256';
import { removeTempDirs, tempDir } from './support/temp-dirs';
import { readResult } from './support/asset-image-result';

const IMAGE = 'localhost:5000/asset/e2e-bert';
const PROJECT = 'assets-bert';

/** The asset's files: a gitignored 6 MiB weight (its own layer with a 4 MiB threshold), small files, an executable. */
function assetFiles(weight: Buffer): Record<string, string | Buffer> {
  return {
    '.gitignore': 'dist\n.asset-images\nassets/bert/*.bin\n',
    'assets/bert/asset.json': `${JSON.stringify({ image: IMAGE, tags: ['0.1'] }, null, 2)}\n`,
    'assets/bert/README.md': 'not in the image\n',
    'assets/bert/model.bin': weight,
    'assets/bert/config.json': '{"hidden_size":768}\n',
    'assets/bert/tokenizer/vocab.txt': 'hello\nworld\n',
    'assets/bert/bin/run.sh': '#!/bin/sh\necho run\n',
    // A 4 MiB threshold (plugin option: the build and the content key both use it) gives the 6 MiB weight its own layer.
    'nx.json': `${JSON.stringify({ plugins: [{ plugin: 'nx-asset-images', options: { largeFileThreshold: 4194304 } }] })}\n`,
  };
}

const CONTENT = ['model.bin', 'config.json', 'tokenizer/vocab.txt', 'bin/run.sh'];

describe('asset-image: build, load, COPY --from', () => {
  let ws: Workspace;
  const weight = randomBytes(6 * 1024 * 1024 + 17);

  beforeAll(async () => {
    ws = await createWorkspace(assetFiles(weight));
    await exec('chmod', ['755', ws.path('assets/bert/bin/run.sh')]);
  });
  afterAll(async () => {
    await ws?.dispose();
  });

  it('builds, writes the lock, loads into Docker, and an app image built FROM busybox with COPY --from holds every file byte for byte', async () => {
    const run = await runNx(ws, ['run', `${PROJECT}:asset-image`, '--load=true']);
    expect(run.stdout).toContain(`${IMAGE}:0.1`);

    const result = readResult(ws, PROJECT);
    expect(result.manifestDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(result.references).toEqual([`${IMAGE}:0.1`, `${IMAGE}:sha256-${result.manifestDigest.slice(7, 27)}`]);
    // the weight alone in the bottom layer, the small files grouped on top, README.md and asset.json left out
    expect(result.layers.map((l) => l.files)).toEqual([['model.bin'], ['bin/run.sh', 'config.json', 'tokenizer/vocab.txt']]);

    const lock = JSON.parse(readFileSync(ws.path('assets/bert/asset.lock.json'), 'utf8'));
    expect(lock.lockfileVersion).toBe(2);
    expect(lock.files['model.bin']).toEqual({ size: weight.length, sha256: sha256(weight), mode: 0o644 });
    expect(lock.files['bin/run.sh'].mode).toBe(0o755);
    expect(lock.image.manifest).toBe(result.manifestDigest);

    expect(await dockerImageId(`${IMAGE}:0.1`)).toBe(expectedDockerId(result));

    const app = tempDir('nxai-app-');
    try {
      writeFileSync(
        path.join(app, 'Dockerfile'),
        `FROM busybox\nCOPY --from=${IMAGE}:0.1 / /assets/bert/\nCMD ["sh", "-c", "cd /assets/bert && sha256sum ${CONTENT.join(' ')} && stat -c '%a %n' bin/run.sh"]\n`,
      );
      await dockerBuild(app, 'e2e-app:1');
      const out = (await dockerRunRm('e2e-app:1')).stdout;
      for (const file of CONTENT) {
        expect(out, file).toContain(`${sha256(readFileSync(ws.path('assets/bert', file)))}  ${file}`);
      }
      expect(out).toContain('755 bin/run.sh');
      const ls = await dockerRunRm('e2e-app:1', ['ls', '/assets/bert']);
      expect(ls.stdout.split('\n').sort().filter(Boolean)).toEqual(['bin', 'config.json', 'model.bin', 'tokenizer']);
    } finally {
      removeTempDirs();
    }
  });

  it('by default (ociLayout "lazy") the layout holds the manifests and configs, not a copy of the layers', async () => {
    const result = readResult(ws, PROJECT);
    const layout = ws.path('.asset-images/oci');
    const info = JSON.parse((await exec('skopeo', ['inspect', `oci:${layout}:${IMAGE}:0.1`])).stdout);
    expect(info.Digest).toBe(result.manifestDigest);
    expect(info.Layers).toEqual(result.layers.map((l) => l.digest));
    for (const layer of result.layers)
      expect(existsSync(path.join(layout, 'blobs/sha256', layer.digest.slice(7))), layer.digest).toBe(false);
    expect(existsSync(path.join(layout, 'blobs/sha256', result.manifestDigest.slice(7)))).toBe(true);
  });

  it('with ociLayout true, writes an OCI layout that skopeo inspects and umoci unpacks to byte-identical files', async () => {
    await runNx(ws, ['run', `${PROJECT}:asset-image`, '--load=true', '--ociLayout=true']);
    const result = readResult(ws, PROJECT);
    const layout = ws.path('.asset-images/oci');
    for (const layer of result.layers)
      expect(existsSync(path.join(layout, 'blobs/sha256', layer.digest.slice(7))), layer.digest).toBe(true);
    const inspect = await exec('skopeo', ['inspect', '--raw', `oci:${layout}:${IMAGE}:0.1`]);
    expect(sha256(inspect.stdout)).toBe(result.manifestDigest.slice(7));
    const info = JSON.parse((await exec('skopeo', ['inspect', `oci:${layout}:${IMAGE}:0.1`])).stdout);
    expect(info.Digest).toBe(result.manifestDigest);

    // Both platforms of the default index, each byte-identical to the sources.
    for (const arch of ['amd64', 'arm64']) {
      await withUmociRootfs(
        layout,
        `${IMAGE}:0.1`,
        (rootfs) => {
          for (const file of CONTENT) {
            expect(sha256(readFileSync(path.join(rootfs, file))), `${arch} ${file}`).toBe(
              sha256(readFileSync(ws.path('assets/bert', file))),
            );
          }
        },
        arch,
      );
    }
  });

  it('on a cache hit, puts the promised image back into Docker when Docker lost it', async () => {
    const result = readResult(ws, PROJECT);
    await docker(['rmi', '--force', ...result.references]);
    expect((await docker(['image', 'inspect', result.references[0]!], { reject: false })).exitCode).not.toBe(0);
    const hit = await runNx(ws, ['run', `${PROJECT}:asset-image`, '--load=true']);
    expect(hit.stdout).toMatch(/local cache/);
    expect(hit.stdout + hit.stderr).toContain('Docker lacked');
    for (const reference of result.references) {
      expect(await dockerImageId(reference)).toBe(expectedDockerId(result));
    }
  });

  it('answers an unchanged asset from the Nx cache without reading the weight, and a one-byte change of the gitignored weight with a new digest and lock', async () => {
    const stats = ws.path('hash-stats.jsonl');
    const env = { NX_ASSET_IMAGES_HASH_STATS: stats };
    const before = readResult(ws, PROJECT);

    // the same command as the first build (its --load=true is part of the task hash)
    const hit = await runNx(ws, ['run', `${PROJECT}:asset-image`, '--load=true'], { env });
    expect(hit.stdout).toMatch(/local cache|existing outputs match the cache/);
    // The key came from the content index hook (no key script ran: no line) or from the key script's stat cache.
    const noop = hashStats(stats);
    expect(noop.every((s) => s.bytesRead === 0)).toBe(true);

    rmSync(stats, { force: true });
    const changed = Buffer.from(weight);
    changed[12345] ^= 0xff;
    writeFileSync(ws.path('assets/bert/model.bin'), changed);
    // A file modified less than 2 s before it is hashed is not trusted to the stat cache (racy
    // timestamps, as in git): it would be read again by the build. Users edit weights long before.
    await new Promise((r) => setTimeout(r, 2100));
    const miss = await runNx(ws, ['run', `${PROJECT}:asset-image`, '--load=true'], { env });
    expect(miss.stdout).not.toMatch(/local cache/);
    expect(miss.stdout).toContain('Updated assets/bert/asset.lock.json');
    const after = readResult(ws, PROJECT);
    expect(after.manifestDigest).not.toBe(before.manifestDigest);
    expect(after.layers[1]!.digest).toBe(before.layers[1]!.digest); // small-files layer unchanged
    expect(after.layers[0]!.digest).not.toBe(before.layers[0]!.digest);
    const lock = JSON.parse(readFileSync(ws.path('assets/bert/asset.lock.json'), 'utf8'));
    expect(lock.files['model.bin'].sha256).toBe(sha256(changed));
    // the changed weight was read once (by the content key), not again by the build
    const read = hashStats(stats).reduce((sum, s) => sum + s.bytesRead, 0);
    expect(read).toBe(changed.length);

    // the image in Docker is the new one
    expect(await dockerImageId(`${IMAGE}:0.1`)).toBe(expectedDockerId(after));
  });

  // The containerd image store reads every blob of a `docker load` archive, so there the whole image goes (and the test
  // checks that no layer is left out); the classic store takes the layers it holds from the previous build.
  it(`after a small file changed, the image holds the new bytes; ${e2eEngine() === '26' ? 'containerd store: every layer is sent' : 'classic store: only the top layer is sent'}`, async () => {
    writeFileSync(ws.path('assets/bert/tokenizer/vocab.txt'), 'hello\nworld\nagain and again\n');
    await new Promise((r) => setTimeout(r, 2100));
    const spy = startDockerLoadSpy();
    let sent: { layers: string[]; blobs: string[] };
    let run;
    try {
      run = await runNx(ws, ['run', `${PROJECT}:asset-image`, '--load=true'], { env: spy.env });
      expect(spy.archives()).toHaveLength(1);
      const archive = await readLoadArchive(spy.archives()[0]!);
      expect(archive.manifest).toHaveLength(1);
      const layers = archive.manifest[0]!.Layers;
      sent = { layers, blobs: layers.filter((layer) => archive.files.has(layer)) };
      // Each layer sent is the bytes of its name (a digest).
      for (const blob of sent.blobs) expect(`sha256:${sha256(archive.files.get(blob)!)}`).toBe(`sha256:${path.basename(blob)}`);
    } finally {
      spy.dispose();
    }
    const result = readResult(ws, PROJECT);
    expect(sent.layers.map((layer) => `sha256:${path.basename(layer)}`)).toEqual(result.layers.map((l) => l.digest));
    if (e2eEngine() === '26') {
      // "loaded it" without "sent k of N": the executor sent every layer; and the archive Docker read holds them all.
      expect(run.stdout).toMatch(/Docker \S+: loaded it \(linux\/amd64, /);
      expect(sent.blobs).toEqual(sent.layers);
    } else {
      expect(run.stdout).toContain('loaded it (sent 1 of 2 layers; it held the others)');
      // The archive holds the top (changed) layer only; Docker had the weight's layer from the build before.
      expect(sent.blobs).toEqual([sent.layers[1]]);
    }
    const container = (await docker(['create', `${IMAGE}:0.1`, 'none'])).stdout.trim();
    const out = tempDir('nxai-cp-');
    try {
      await docker(['cp', `${container}:/tokenizer/vocab.txt`, path.join(out, 'vocab.txt')]);
      await docker(['cp', `${container}:/model.bin`, path.join(out, 'model.bin')]);
      expect(readFileSync(path.join(out, 'vocab.txt'), 'utf8')).toBe('hello\nworld\nagain and again\n');
      expect(sha256(readFileSync(path.join(out, 'model.bin')))).toBe(sha256(readFileSync(ws.path('assets/bert/model.bin'))));
    } finally {
      await docker(['rm', container]);
      removeTempDirs();
    }
    expect(await dockerImageId(`${IMAGE}:0.1`)).toBe(expectedDockerId(result));
  });

  it('in CI, fails on a lock that does not match the files and names what differs', async () => {
    await commitAll(ws, 'lock');
    writeFileSync(ws.path('assets/bert/tokenizer/vocab.txt'), 'hello\nworld\nagain\n');
    const ci = await runNx(ws, ['run', `${PROJECT}:asset-image`, '--skip-nx-cache'], { env: { CI: 'true' }, reject: false });
    expect(ci.exitCode).not.toBe(0);
    const output = ci.stdout + ci.stderr;
    expect(output).toContain('assets/bert/asset.lock.json: does not match');
    expect(output).toContain('~ tokenizer/vocab.txt');
    // with the lock generator registered the way `nx g nx-asset-images:init` does it
    const nxJson = JSON.parse(readFileSync(ws.path('nx.json'), 'utf8'));
    writeFileSync(ws.path('nx.json'), JSON.stringify({ ...nxJson, sync: { globalGenerators: ['nx-asset-images:lock'] } }));
    // (the lock generator does not see the threshold plugin option: it only writes content hashes, which do not depend on it)
    const check = await runNx(ws, ['sync:check'], { env: { CI: 'true' }, reject: false });
    expect(check.exitCode, check.stdout + check.stderr).not.toBe(0);
    expect(check.stdout + check.stderr).toContain('asset.lock.json');
    const sync = await runNx(ws, ['sync']);
    expect(sync.exitCode).toBe(0);
    expect(JSON.parse(readFileSync(ws.path('assets/bert/asset.lock.json'), 'utf8')).files['tokenizer/vocab.txt'].size).toBe(18);
    expect((await runNx(ws, ['sync:check'], { env: { CI: 'true' }, reject: false })).exitCode).toBe(0);
  }, 600_000);
});

describe('asset-image: reproducible', () => {
  it('gives the same manifest digest for the same asset built in two directories at different times', async () => {
    const weight = randomBytes(5 * 1024 * 1024);
    const digests: string[] = [];
    for (const delay of [0, 1500]) {
      await new Promise((r) => setTimeout(r, delay));
      const ws = await createWorkspace(assetFiles(weight));
      try {
        await exec('chmod', ['755', ws.path('assets/bert/bin/run.sh')]);
        await runNx(ws, ['run', `${PROJECT}:asset-image`, '--load=false']);
        digests.push(readResult(ws, PROJECT).manifestDigest);
      } finally {
        await ws.dispose();
      }
    }
    expect(digests[0]).toMatch(/^sha256:/);
    expect(digests[1]).toBe(digests[0]);
  });
});

describe('asset-image: bad input', () => {
  let ws: Workspace;
  const cases: { name: string; files: Record<string, string>; expect: RegExp; setup?: (root: string) => Promise<void> }[] = [
    {
      name: 'invalid-json',
      files: { 'asset.json': '{ "image": "localhost:5000/a/b", }' },
      expect: /assets\/invalid-json\/asset\.json.*(JSON|line 1)/,
    },
    {
      name: 'unknown-field',
      files: { 'asset.json': '{ "image": "localhost:5000/a/b", "weights": [] }' },
      expect: /unknown-field\/asset\.json.*"weights"/,
    },
    {
      name: 'wrong-type',
      files: { 'asset.json': '{ "image": "localhost:5000/a/b", "tags": "0.1" }' },
      expect: /wrong-type\/asset\.json: field "tags": expected array/,
    },
    {
      name: 'no-match',
      files: { 'asset.json': '{ "image": "localhost:5000/a/b", "files": ["*.safetensors"] }', 'x.bin': 'x' },
      expect: /no-match\/asset\.json: field "files\[0\]": "\*\.safetensors" .*match/,
    },
    {
      name: 'missing-file',
      files: { 'asset.json': '{ "image": "localhost:5000/a/b", "files": ["model.bin"] }' },
      expect: /missing-file\/asset\.json: field "files\[0\]": "model\.bin"/,
    },
    {
      name: 'dotdot',
      files: { 'asset.json': '{ "image": "localhost:5000/a/b", "files": ["../secrets/*"] }' },
      expect: /dotdot\/asset\.json: field "files\[0\]"/,
    },
    {
      name: 'absolute',
      files: { 'asset.json': '{ "image": "localhost:5000/a/b", "exclude": ["/etc/passwd"] }' },
      expect: /absolute\/asset\.json: field "exclude\[0\]"/,
    },
    { name: 'bad-image', files: { 'asset.json': '{ "image": "Local Host/UPPER" }' }, expect: /bad-image\/asset\.json: field "image"/ },
    {
      name: 'symlink-out',
      files: { 'asset.json': '{ "image": "localhost:5000/a/b" }', 'ok.txt': 'ok' },
      setup: async (root) => symlink('/etc/hostname', path.join(root, 'assets/symlink-out/leak')),
      expect: /symlink-out\/asset\.json.*"leak".*(outside|leaves)/,
    },
  ];

  beforeAll(async () => {
    const files: Record<string, string> = {
      'assets/good/asset.json': '{ "image": "localhost:5000/asset/good" }',
      'assets/good/data.txt': 'good\n',
    };
    for (const c of cases) for (const [f, content] of Object.entries(c.files)) files[`assets/${c.name}/${f}`] = content;
    ws = await createWorkspace(files);
    for (const c of cases) await c.setup?.(ws.root);
  });
  afterAll(async () => {
    await ws?.dispose();
  });

  it('keeps loading the other projects of the graph', async () => {
    const projects = (await runNx(ws, ['show', 'projects', '--json'])).stdout;
    const names = JSON.parse(projects.slice(projects.indexOf('['))) as string[];
    expect(names).toContain('assets-good');
    for (const c of cases) expect(names).toContain(`assets-${c.name}`);
    const good = await runNx(ws, ['run', 'assets-good:asset-image', '--load=false']);
    expect(good.exitCode).toBe(0);
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s: one clear error naming the file and field, nothing written', async (_name, c) => {
    const run = await runNx(ws, ['run', `assets-${c.name}:asset-image`, '--load=false'], { reject: false });
    expect(run.exitCode).not.toBe(0);
    expect(run.stdout + run.stderr).toMatch(c.expect);
    expect(existsSync(ws.path('dist/asset-images', `assets-${c.name}`))).toBe(false);
    expect(existsSync(ws.path('assets', c.name, 'asset.lock.json'))).toBe(false);
    const leftovers = readdirSync(ws.path('assets', c.name)).filter((f) => f.endsWith('.tmp'));
    expect(leftovers).toEqual([]);
  });
});
