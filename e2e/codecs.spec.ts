// Layer codecs end to end (part of the e2e-node set: what Node has decides the outcome): an asset with gzip or zstd
// layers is built by real nx and loaded into the test run's Docker with byte-identical files; every layout layer
// decompresses to its config diffID; Docker 20.10 is sent zstd layers as plain tars. Where Node.js lacks zstd
// (before 22.15) the build is a clear error naming the field.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { dockerImageId } from '../packages/nx-asset-images/src/transports/docker-load';
import { docker, e2eEngine, expectedDockerId } from './support/docker';
import { isPlainTar, readLoadArchive, startDockerLoadSpy } from './support/docker-load-spy';
import { withUmociRootfs } from './support/umoci';
import { createWorkspace, runNx } from './support/workspace';
import { sha256 } from './support/sha256';
import { removeTempDirs, tempDir } from './support/temp-dirs';
import { readResult } from './support/asset-image-result';

describe('asset-image: compression', () => {
  it.each(['gzip', 'zstd'] as const)(
    '%s layers: Docker loads them (zstd as plain tars for Docker 20.10) with byte-identical files, or a clear error naming the field where Node.js lacks the codec',
    async (compression) => {
      const weight = randomBytes(5 * 1024 * 1024);
      const image = `localhost:5000/asset/e2e-${compression}`;
      const ws = await createWorkspace({
        '.gitignore': 'dist\n.asset-images\n',
        'assets/c/asset.json': JSON.stringify({ image, tags: ['1'], compression }),
        'assets/c/model.bin': weight,
        'assets/c/vocab.txt': 'a\nb\n',
      });
      const spy = startDockerLoadSpy();
      try {
        const run = await runNx(ws, ['run', 'assets-c:asset-image', '--load=true', '--ociLayout=true'], { reject: false, env: spy.env });
        const zlib = await import('node:zlib');
        const zstdDecompress = (zlib as { zstdDecompressSync?: (bytes: Buffer) => Buffer }).zstdDecompressSync;
        if (compression === 'zstd' && typeof (zlib as { createZstdCompress?: unknown }).createZstdCompress !== 'function') {
          expect(run.exitCode).not.toBe(0);
          expect(run.stdout + run.stderr).toMatch(/assets\/c\/asset\.json: field "compression": expected a codec this Node.js has .*zstd/);
          expect(existsSync(ws.path('dist/asset-images/assets-c'))).toBe(false);
          return;
        }
        expect(run.exitCode, run.stdout + run.stderr).toBe(0);
        const result = readResult(ws, 'assets-c');
        expect(result.layers.map((l) => l.mediaType)).toEqual(
          result.layers.map(() => `application/vnd.oci.image.layer.v1.tar+${compression}`),
        );
        expect(await dockerImageId(`${image}:1`)).toBe(expectedDockerId(result));
        // Each layer in the layout decompresses to the tar whose sha256 is the config's diffID.
        const blob = (digest: string) => readFileSync(ws.path('.asset-images/oci/blobs/sha256', digest.slice('sha256:'.length)));
        const config = JSON.parse(blob(result.configDigest).toString('utf8')) as { rootfs: { diff_ids: string[] } };
        expect(config.rootfs.diff_ids).toEqual(result.layers.map((l) => l.diffId));
        const decompress = compression === 'gzip' ? zlib.gunzipSync : zstdDecompress!;
        for (const layer of result.layers) {
          const bytes = blob(layer.digest);
          expect(`sha256:${sha256(bytes)}`).toBe(layer.digest);
          expect(`sha256:${sha256(decompress(bytes))}`).toBe(layer.diffId);
        }
        // What Docker was sent: Docker 20.10 (classic store, no zstd) plain tars named by their diffIDs for zstd;
        // otherwise the layers as built.
        expect(spy.archives()).toHaveLength(1);
        const archive = await readLoadArchive(spy.archives()[0]!);
        const plain = compression === 'zstd' && e2eEngine() === '20.10';
        const expected = result.layers.map((l) => `blobs/sha256/${(plain ? l.diffId : l.digest).slice('sha256:'.length)}`);
        expect(archive.manifest[0]!.Layers).toEqual(expected);
        for (const [i, name] of expected.entries()) {
          const bytes = archive.files.get(name)!;
          expect(`sha256:${sha256(bytes)}`, name).toBe(plain ? result.layers[i]!.diffId : result.layers[i]!.digest);
          expect(isPlainTar(bytes), name).toBe(plain);
        }
        // what Docker holds: the files, byte for byte
        const container = (await docker(['create', `${image}:1`, 'none'])).stdout.trim();
        const out = tempDir('nxai-cp-');
        try {
          await docker(['cp', `${container}:/model.bin`, path.join(out, 'model.bin')]);
          expect(sha256(readFileSync(path.join(out, 'model.bin')))).toBe(sha256(weight));
        } finally {
          await docker(['rm', container]);
          removeTempDirs();
        }
        // what the OCI layout holds, through umoci (Debian's umoci 0.4.7 reads gzip layers, not zstd)
        if (compression === 'gzip') {
          await withUmociRootfs(ws.path('.asset-images/oci'), `${image}:1`, (rootfs) => {
            expect(sha256(readFileSync(path.join(rootfs, 'model.bin')))).toBe(sha256(weight));
            expect(readFileSync(path.join(rootfs, 'vocab.txt'), 'utf8')).toBe('a\nb\n');
          });
        }
      } finally {
        spy.dispose();
        await ws.dispose();
      }
    },
  );
});
