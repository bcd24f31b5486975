// The OCI image layout writer against real readers: skopeo reads the
// manifest digest, umoci unpacks byte-identical files; same input in two
// different directories gives the same manifest digest.
import { randomBytes } from 'node:crypto';
import { chmodSync, cpSync, mkdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Compression } from '../packages/nx-asset-images/src/oci/layer-codecs';
import { readOciLayoutImage, writeOciLayout, writeOciLayoutIndex } from '../packages/nx-asset-images/src/transports/oci-layout';
import { assembleImageIndex } from '../packages/nx-asset-images/src/oci/image-index';
import { buildImage } from './support/assembled-image';
import { exec } from './support/exec';
import { sha256, sha256File } from './support/sha256';
import { removeTempDirs, tempDir } from './support/temp-dirs';

afterAll(removeTempDirs);

/** In-image path -> relative source path. */
const SMALL = ['config.json', 'vocab.txt', 'tokenizer/merges.txt', 'bin/run.sh'];
const BIG = 'weights.bin';

function writeSources(dir: string): void {
  writeFileSync(path.join(dir, BIG), randomBytes(20 * 1024 * 1024 + 123));
  writeFileSync(path.join(dir, 'config.json'), '{"hidden_size":768}\n');
  writeFileSync(path.join(dir, 'vocab.txt'), 'hello\nworld\n');
  mkdirSync(path.join(dir, 'tokenizer'));
  writeFileSync(path.join(dir, 'tokenizer/merges.txt'), 'h e\nl l\n');
  mkdirSync(path.join(dir, 'bin'));
  writeFileSync(path.join(dir, 'bin/run.sh'), '#!/bin/sh\necho run\n');
  chmodSync(path.join(dir, 'bin/run.sh'), 0o755);
}

/** The bert image of a sources folder: the weight's layer and the small files' layer under models/bert, with a title. */
const bertImage = (src: string, compression: Compression = 'none') =>
  buildImage(
    src,
    { big: BIG, small: SMALL, under: 'models/bert' },
    { compression, annotations: { 'org.opencontainers.image.title': 'bert' } },
  );

async function expectUnpackedFilesMatch(layout: string, ref: string, src: string): Promise<void> {
  const bundle = path.join(tempDir('nxai-umoci-'), 'bundle');
  await exec('umoci', ['unpack', '--rootless', '--image', `${layout}:${ref}`, bundle]);
  const root = path.join(bundle, 'rootfs', 'models', 'bert');
  for (const p of [BIG, ...SMALL]) expect(sha256File(path.join(root, p)), p).toBe(sha256File(path.join(src, p)));
  expect(statSync(path.join(root, 'bin/run.sh')).mode & 0o111).not.toBe(0);
}

describe('writeOciLayout with real readers', () => {
  let src: string;
  beforeAll(() => {
    src = tempDir('nxai-src-');
    writeSources(src);
  });

  it.each<Compression>(['none', 'gzip'])('%s: skopeo inspects the manifest digest, umoci unpacks identical files', async (compression) => {
    const image = await bertImage(src, compression);
    const layout = path.join(tempDir('nxai-oci-'), 'layout');
    const result = await writeOciLayout(layout, image, { refNames: ['0.1', 'latest'] });
    expect(result.manifestDigest).toBe(image.manifest.descriptor.digest);

    const inspected = JSON.parse((await exec('skopeo', ['inspect', `oci:${layout}:0.1`])).stdout);
    expect(inspected.Digest).toBe(image.manifest.descriptor.digest);
    expect(inspected.Layers).toEqual(image.layers.map((l) => l.descriptor.digest));
    expect(inspected.Architecture).toBe('amd64');
    expect(inspected.Os).toBe('linux');
    const raw = (await exec('skopeo', ['inspect', '--raw', `oci:${layout}:latest`])).stdout;
    expect(`sha256:${sha256(raw)}`).toBe(image.manifest.descriptor.digest);
    const mediaTypes = JSON.parse(raw).layers.map((l: { mediaType: string }) => l.mediaType);
    expect(new Set(mediaTypes)).toEqual(
      new Set([compression === 'gzip' ? 'application/vnd.oci.image.layer.v1.tar+gzip' : 'application/vnd.oci.image.layer.v1.tar']),
    );

    await expectUnpackedFilesMatch(layout, '0.1', src);

    // Round trip: the image read back from the layout, written to another layout, is the same image.
    const again = await readOciLayoutImage(layout, 'latest');
    const copy = path.join(tempDir('nxai-oci-'), 'copy');
    await writeOciLayout(copy, again, { refNames: ['copied'] });
    expect(JSON.parse((await exec('skopeo', ['inspect', `oci:${copy}:copied`])).stdout).Digest).toBe(image.manifest.descriptor.digest);
  });

  it('the same input in two different directories (other mtimes) gives the same manifest digest', async () => {
    const other = tempDir('nxai-src-other-');
    cpSync(src, other, { recursive: true });
    utimesSync(path.join(other, BIG), new Date('2001-01-01'), new Date('2001-01-01'));
    utimesSync(path.join(other, 'vocab.txt'), new Date(), new Date());
    const digests: string[] = [];
    for (const dir of [src, other]) {
      for (const compression of ['none', 'gzip'] as const) {
        const image = await bertImage(dir, compression);
        const layout = path.join(tempDir('nxai-oci-'), 'layout');
        await writeOciLayout(layout, image, { refNames: ['x'] });
        digests.push(`${compression} ${JSON.parse((await exec('skopeo', ['inspect', `oci:${layout}:x`])).stdout).Digest}`);
      }
    }
    expect(digests[2]).toBe(digests[0]);
    expect(digests[3]).toBe(digests[1]);
    expect(digests[0]).not.toBe(digests[1]);
  });

  it('a multi-platform index (linux/amd64 + linux/arm64 over the same layers): skopeo reads each variant, umoci unpacks each byte-identical', async () => {
    const image = await bertImage(src);
    const multi = assembleImageIndex({
      layers: image.layers,
      platforms: [
        { os: 'linux', architecture: 'amd64' },
        { os: 'linux', architecture: 'arm64' },
      ],
    });
    const layout = path.join(tempDir('nxai-oci-'), 'layout');
    await writeOciLayoutIndex(layout, multi, { refNames: ['0.1'] });
    const raw = JSON.parse((await exec('skopeo', ['inspect', '--raw', `oci:${layout}:0.1`])).stdout);
    expect(raw.manifests.map((m: { platform: { architecture: string } }) => m.platform.architecture)).toEqual(['amd64', 'arm64']);
    for (const [arch, which] of [
      ['amd64', 0],
      ['arm64', 1],
    ] as const) {
      const inspected = JSON.parse((await exec('skopeo', ['inspect', '--override-arch', arch, `oci:${layout}:0.1`])).stdout);
      // skopeo names the index by its digest and reads the variant's config and layers.
      expect(inspected.Digest).toBe(multi.index.descriptor.digest);
      expect(inspected.Architecture).toBe(arch);
      expect(inspected.Layers).toEqual(image.layers.map((l) => l.descriptor.digest));
      // umoci takes a manifest: each platform's, by the digest the index names.
      await writeOciLayout(layout, multi.images[which]!.image, { refNames: [`0.1-${arch}`] });
      await expectUnpackedFilesMatch(layout, `0.1-${arch}`, src);
    }
  });
});
