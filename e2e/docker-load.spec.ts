// dockerLoad into the test run's real engine: the image id is the config
// digest (classic image store) or the manifest digest (containerd's), and a
// container made from the image holds byte-identical files.
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assembleImage } from '../packages/nx-asset-images/src/oci/assemble-image';
import { bytesLayer } from '../packages/nx-asset-images/src/oci/bytes-layer';
import type { Compression } from '../packages/nx-asset-images/src/oci/layer-codecs';
import { DockerCommandError as DockerLoadError } from '../packages/nx-asset-images/src/transports/docker-cli';
import { dockerImageId, dockerLoad } from '../packages/nx-asset-images/src/transports/docker-load';
import { docker, expectedDockerId } from './support/docker';
import { buildImage } from './support/assembled-image';
import { servicesEnv } from './support/services';
import { sha256File } from './support/sha256';
import { removeTempDirs, tempDir } from './support/temp-dirs';

const tags: string[] = [];
afterAll(async () => {
  for (const tag of tags) await docker(['rmi', '-f', tag]).catch(() => undefined);
  removeTempDirs();
});

const FILES = ['weights.bin', 'config.json', 'tok/vocab.txt', 'bin/run.sh'];
const IMAGE_FILES = { big: FILES[0]!, small: FILES.slice(1), under: 'models' };

describe('dockerLoad', () => {
  let src: string;
  beforeAll(() => {
    src = tempDir('nxai-load-src-');
    writeFileSync(path.join(src, 'weights.bin'), randomBytes(20 * 1024 * 1024 + 9));
    writeFileSync(path.join(src, 'config.json'), '{"a":1}\n');
    mkdirSync(path.join(src, 'tok'));
    writeFileSync(path.join(src, 'tok/vocab.txt'), 'x\ny\n');
    mkdirSync(path.join(src, 'bin'));
    writeFileSync(path.join(src, 'bin/run.sh'), '#!/bin/sh\n');
    chmodSync(path.join(src, 'bin/run.sh'), 0o755);
  });

  it.each<Compression>(['none', 'gzip'])(
    '%s: loads, the image id is the config digest (classic) or manifest digest (containerd), a container holds identical files',
    async (compression) => {
      const image = await buildImage(src, IMAGE_FILES, { compression });
      const tag = `nxai-e2e/asset-load:${compression}-${Date.now()}`;
      tags.push(tag);
      const progress: number[] = [];
      const result = await dockerLoad(image, [tag], { dockerHost: servicesEnv().DOCKER_HOST, onProgress: (e) => progress.push(e.bytes) });
      expect(result.loaded).toEqual([tag]);
      const id = expectedDockerId({ configDigest: image.config.descriptor.digest, manifestDigest: image.manifest.descriptor.digest });
      expect(result.imageId).toBe(id);
      expect(progress.at(-1)).toBeGreaterThan(20 * 1024 * 1024);

      expect(await dockerImageId(tag)).toBe(id);
      const inspect = JSON.parse((await docker(['image', 'inspect', tag])).stdout)[0];
      expect(inspect.Id).toBe(id);
      expect(inspect.RootFS.Layers).toEqual(image.layers.map((l) => l.diffId));
      expect(inspect.Architecture).toBe('amd64');

      const container = (await docker(['create', '--network=none', tag, '/nothing'])).stdout.trim();
      try {
        const out = tempDir('nxai-load-out-');
        await docker(['cp', `${container}:/models`, out]);
        for (const p of FILES) expect(sha256File(path.join(out, 'models', p)), p).toBe(sha256File(path.join(src, p)));
      } finally {
        await docker(['rm', container]);
      }
    },
  );

  it('a FROM busybox container reads the files (COPY --from style use) with byte-identical content', async () => {
    const image = await buildImage(src, IMAGE_FILES);
    const assetTag = `nxai-e2e/asset-load:copy-${Date.now()}`;
    const appTag = `nxai-e2e/asset-app:${Date.now()}`;
    tags.push(assetTag, appTag);
    await dockerLoad(image, [assetTag]);
    const ctx = tempDir('nxai-load-ctx-');
    writeFileSync(path.join(ctx, 'Dockerfile'), `FROM busybox\nCOPY --from=${assetTag} /models /assets/\n`);
    await docker(['build', '--network=host', '-t', appTag, ctx], { env: { DOCKER_BUILDKIT: '0' } });
    const run = await docker(['run', '--rm', '--network=none', appTag, 'sha256sum', '/assets/weights.bin', '/assets/tok/vocab.txt']);
    expect(
      run.stdout
        .trim()
        .split('\n')
        .map((l) => l.split(/\s+/)[0]),
    ).toEqual([sha256File(path.join(src, 'weights.bin')), sha256File(path.join(src, 'tok/vocab.txt'))]);
  });

  it('dockerImageId is undefined for an absent image', async () => {
    expect(await dockerImageId(`nxai-e2e/absent:${Date.now()}`)).toBeUndefined();
  });

  it('a layer whose diffID lies makes docker fail: DockerLoadError with exit code and stderr', async () => {
    const real = bytesLayer(Buffer.alloc(1024));
    const lying = { ...real, diffId: `sha256:${'0'.repeat(64)}` as const, open: () => Readable.from([Buffer.alloc(1024)]) };
    const tag = `nxai-e2e/asset-load:bad-${Date.now()}`;
    tags.push(tag);
    const error = await dockerLoad(assembleImage({ layers: [lying] }), [tag]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DockerLoadError);
    expect((error as DockerLoadError).exitCode).not.toBe(0);
    expect((error as DockerLoadError).stderr.length).toBeGreaterThan(0);
    expect((error as DockerLoadError).cause).toBeDefined();
  });
});
