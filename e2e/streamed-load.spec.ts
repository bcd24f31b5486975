// A cold build that loads into Docker's classic image store streams its layers into `docker load` while it reads the
// files (issue 29), and the config and manifest.json come last. With the real engine and real nx: the archive Docker
// read has that form and its layers are the image's; an archive cut short at any point (mid-layer, after the layers,
// after the config) tags nothing; and a build killed with SIGKILL during the streamed load leaves no tag and no new
// image, and the next build loads the image. The containerd store (Docker 26) keeps the OCI archive: not run there.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StreamedDockerLoad, StreamedLayersMismatchError } from '../packages/nx-asset-images/src/transports/streamed-docker-load';
import { docker, e2eEngine, expectedDockerId, removeImagesOf } from './support/docker';
import { readLoadArchive, startDockerLoadSpy } from './support/docker-load-spy';
import { readResult } from './support/asset-image-result';
import { buildImage } from './support/assembled-image';
import { sha256 } from './support/sha256';
import { removeTempDirs, tempDir } from './support/temp-dirs';
import { createWorkspace, runNx, type Workspace } from './support/workspace';

const IMAGE = 'localhost:5000/asset/e2e-streamed';
const PROJECT = 'assets-streamed';
const WEIGHT = 96 * 1024 * 1024;

/** Every image id the engine has, dangling ones too. */
async function allImageIds(): Promise<string[]> {
  return (await docker(['image', 'ls', '-a', '-q', '--no-trunc'])).stdout.split('\n').filter(Boolean).sort();
}

async function tagsOf(repository: string): Promise<string[]> {
  return (await docker(['image', 'ls', repository, '--format', '{{.Tag}}'])).stdout.split('\n').filter(Boolean);
}

/** The processes under `root` (pid, parent pid, argv), from /proc. */
function descendants(root: number): { pid: number; argv: string[] }[] {
  const parent = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      parent.set(Number(name), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone
    }
  }
  const under = (pid: number): boolean => {
    for (let p = parent.get(pid); p !== undefined && p > 1; p = parent.get(p)) if (p === root) return true;
    return false;
  };
  return [...parent.keys()].filter(under).map((pid) => {
    let argv: string[] = [];
    try {
      argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    } catch {
      // gone
    }
    return { pid, argv };
  });
}

const bytesRead = (pid: number): number => Number(/rchar: (\d+)/.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))?.[1] ?? 0);
const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.skipIf(e2eEngine() === '26')('streamed docker load (classic image store)', () => {
  afterAll(async () => {
    await removeImagesOf(IMAGE, 'nxai-e2e/streamed-cut');
    removeTempDirs();
  });

  // Docker 20.10 unpacks the whole archive before it reads manifest.json, and tags after every layer checked: an
  // archive that ends early, at an entry boundary or inside one, names nothing. A `docker` that passes on only the
  // first N bytes (then the real CLI reads the end of its input) cuts it where the test says.
  it.each(['mid-layer', 'after-layers', 'after-config'] as const)('an archive cut %s tags nothing and leaves no image', async (where) => {
    const src = tempDir('nxai-cut-src-');
    writeFileSync(path.join(src, 'big.bin'), randomBytes(300_000));
    writeFileSync(path.join(src, 'small.txt'), `${where}\n`);
    const image = await buildImage(src, { big: 'big.bin', small: ['small.txt'], under: 'm' });
    const layers = image.layers;
    const header = 512;
    const entry = (size: number) => header + Math.ceil(size / 512) * 512;
    const afterLayers = layers.reduce((sum, l) => sum + entry(l.descriptor.size), 0);
    const cut = {
      'mid-layer': header + 100_000,
      'after-layers': afterLayers,
      'after-config': afterLayers + entry(image.config.bytes.length),
    }[where];
    const bin = tempDir('nxai-cut-docker-');
    const real = execFileSync('sh', ['-c', 'command -v docker'], { encoding: 'utf8' }).trim();
    writeFileSync(path.join(bin, 'docker'), `#!/bin/sh\nhead -c ${cut} | "${real}" "$@"\n`, { mode: 0o755 });
    const before = await allImageIds();
    const tag = `nxai-e2e/streamed-cut:${where}`;
    const load = StreamedDockerLoad.start({ dockerCommand: path.join(bin, 'docker') });
    const failed = await (async () => {
      for (const layer of layers) await load.writeLayer(layer.descriptor.size, layer.open());
      await load.finish(image, [tag]);
    })().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failed).toBeInstanceOf(Error);
    expect(await tagsOf('nxai-e2e/streamed-cut')).not.toContain(where);
    expect(await allImageIds()).toEqual(before);
    // The same layers in full load, under the config's id.
    const whole = StreamedDockerLoad.start();
    for (const layer of layers) await whole.writeLayer(layer.descriptor.size, Readable.from(layer.open()));
    const loaded = await whole.finish(image, [tag]);
    expect(loaded.imageId).toBe(image.config.descriptor.digest);
    expect(JSON.parse((await docker(['image', 'inspect', '--format', '{{json .RootFS.Layers}}', tag])).stdout)).toEqual(
      layers.map((l) => l.diffId),
    );
  });

  it('an image whose layers are not the bytes carried is refused before its config is sent: nothing is tagged', async () => {
    const src = tempDir('nxai-mismatch-src-');
    writeFileSync(path.join(src, 'big.bin'), randomBytes(100_000));
    writeFileSync(path.join(src, 'small.txt'), 'carried\n');
    const carried = await buildImage(src, { big: 'big.bin', small: ['small.txt'], under: 'm' });
    writeFileSync(path.join(src, 'small.txt'), 'described\n');
    const described = await buildImage(src, { big: 'big.bin', small: ['small.txt'], under: 'm' });
    const before = await allImageIds();
    const tag = 'nxai-e2e/streamed-cut:mismatch';
    const load = StreamedDockerLoad.start();
    for (const layer of carried.layers) await load.writeLayer(layer.descriptor.size, layer.open());
    await expect(load.finish(described, [tag])).rejects.toBeInstanceOf(StreamedLayersMismatchError);
    expect(await tagsOf('nxai-e2e/streamed-cut')).not.toContain('mismatch');
    expect(await allImageIds()).toEqual(before);
  });

  describe('through nx', () => {
    let ws: Workspace;
    beforeAll(async () => {
      ws = await createWorkspace({
        '.gitignore': 'dist\n.asset-images\n*.bin\n',
        // The weight in a small-files group. Under Nx the content key hashes the files and the groups before the task;
        // the cold load still reads them once, streamed into Docker.
        'nx.json': JSON.stringify({ plugins: [{ plugin: 'nx-asset-images', options: { largeFileThreshold: 1024 * 1024 * 1024 } }] }),
        'assets/streamed/asset.json': `${JSON.stringify({ image: IMAGE, tags: ['1'], platforms: ['linux/amd64'] }, null, 2)}\n`,
        'assets/streamed/config.json': '{"layers": 2}\n',
        'assets/streamed/vocab/a.txt': 'a\nb\n',
      });
      writeFileSync(ws.path('assets/streamed/model.bin'), randomBytes(WEIGHT));
    });
    afterAll(async () => {
      await ws?.dispose();
    });

    it('a build killed with SIGKILL during the streamed load leaves no tag and no new image; the next build loads it, layers first and config and manifest.json last', async () => {
      const before = await allImageIds();
      const killedSpy = startDockerLoadSpy();
      let nxPid = 0;
      let settled = false;
      const run = runNx(ws, ['run', `${PROJECT}:asset-image`, '--load=true'], {
        reject: false,
        env: killedSpy.env,
        onSpawn: (pid) => (nxPid = pid),
      }).finally(() => (settled = true));
      // Wait until docker load has read part of the weight, then kill the build (nx and the task's process) but not
      // the docker CLI, which, as when its parent dies for real, reads the end of its input.
      let cli: number | undefined;
      for (let waited = 0; waited < 120_000 && !cli && !settled; waited += 5) {
        await sleep(5);
        const load = nxPid
          ? descendants(nxPid).find((p) => path.basename(p.argv[0] ?? '') === 'docker' && p.argv[1] === 'load')
          : undefined;
        if (load && bytesRead(load.pid) > 24 * 1024 * 1024) cli = load.pid;
      }
      expect(cli, 'a docker load that read 24 MiB').toBeDefined();
      for (const p of descendants(nxPid)) if (p.pid !== cli) process.kill(p.pid, 'SIGKILL');
      process.kill(nxPid, 'SIGKILL');
      const killed = await run;
      expect(killed.stdout, 'the killed build streamed').not.toMatch(/could not stream/);
      for (let waited = 0; alive(cli!) && waited < 60_000; waited += 50) await sleep(50);
      expect(alive(cli!)).toBe(false);
      expect(await tagsOf(IMAGE)).toEqual([]);
      expect(await allImageIds()).toEqual(before);
      // What docker read until then: the streamed form (the first layer by its place), cut short.
      const cut = readFileSync(killedSpy.archives()[0]!);
      killedSpy.dispose();
      expect(cut.subarray(0, 12).toString('latin1')).toBe('layers/0.tar');
      expect(cut.includes(Buffer.from('manifest.json'))).toBe(false);

      const spy = startDockerLoadSpy();
      try {
        const rebuilt = await runNx(ws, ['run', `${PROJECT}:asset-image`, '--load=true'], { env: spy.env });
        expect(rebuilt.stdout).not.toMatch(/could not stream/);
        expect(rebuilt.stdout).toMatch(/Docker \S+: loaded it \(linux\/amd64, /);
        const result = readResult(ws, PROJECT);
        expect(await docker(['image', 'inspect', '--format', '{{.Id}}', `${IMAGE}:1`]).then((r) => r.stdout.trim())).toBe(
          expectedDockerId(result),
        );
        expect(JSON.parse((await docker(['image', 'inspect', '--format', '{{json .RootFS.Layers}}', `${IMAGE}:1`])).stdout)).toEqual(
          result.layers.map((l) => l.diffId),
        );
        // One archive, streamed: layers by place, then the config, then manifest.json; each layer the image's.
        expect(spy.archives()).toHaveLength(1);
        const archive = await readLoadArchive(spy.archives()[0]!);
        expect([...archive.files.keys()]).toEqual([...result.layers.map((_, i) => `layers/${i}.tar`), 'config.json', 'manifest.json']);
        expect(archive.manifest[0]!.RepoTags).toEqual(expect.arrayContaining([`${IMAGE}:1`]));
        for (const [i, layer] of result.layers.entries())
          expect(`sha256:${sha256(archive.files.get(`layers/${i}.tar`)!)}`).toBe(layer.diffId);
        expect(`sha256:${sha256(archive.files.get('config.json')!)}`).toBe(result.configDigest);
      } finally {
        spy.dispose();
      }
    });
  });
});
