// Golden digests: the layers of a small fixed tree, made by our tar module, are byte for byte what GNU tar makes of it
// under the same rules (entries sorted by path bytes with each directory before what it holds, uid/gid 0 without
// names, modes 0644/0755, one mtime: 0 or SOURCE_DATE_EPOCH, ustar headers, the archive ending in two zero blocks,
// no record padding), hashed by sha256sum; and the digests are pinned here as literals, with the image's config and
// manifest (written out by hand), so that any change of layout is a visible, deliberate bump of this file.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assembleImage } from '../packages/nx-asset-images/src/oci/assemble-image';
import type { Layer } from '../packages/nx-asset-images/src/oci/image';
import { groupedFilesLayer, singleFileLayer } from '../packages/nx-asset-images/src/tar/file-layer';
import { exec } from './support/exec';
import { sha256 } from './support/sha256';
import { removeTempDirs, tempDir } from './support/temp-dirs';

afterAll(removeTempDirs);

/** The small files (path -> content; bin/run.sh is executable). `tokenizer-extra.txt` sorts between `tokenizer` and `tokenizer/…`. */
const SMALL: Record<string, string> = {
  'bin/run.sh': '#!/bin/sh\necho run\n',
  'block.bin': 'x'.repeat(512),
  'config.json': '{"hidden_size":8}\n',
  'empty.txt': '',
  'tokenizer-extra.txt': 'extra\n',
  'tokenizer/vocab.txt': 'hello\nworld\n',
};
const WEIGHT_PATH = 'models/weights.bin';
/** 1 MiB and 3 bytes of a fixed pattern: not a multiple of 512, so the tar pads it. */
const WEIGHT = Buffer.from(Array.from({ length: 1024 * 1024 + 3 }, (_, i) => (i * 7919 + 13) % 251));

/** Writes `files` under `root` with the modes the layer rules give (folders 0755), whatever the umask. */
function writeTree(root: string, files: Record<string, string | Buffer>, executable: readonly string[] = []): void {
  for (const [file, content] of Object.entries(files)) {
    const parts = file.split('/');
    for (let i = 1; i < parts.length; i++) {
      const dir = path.join(root, ...parts.slice(0, i));
      mkdirSync(dir, { recursive: true });
      chmodSync(dir, 0o755);
    }
    writeFileSync(path.join(root, file), content);
    chmodSync(path.join(root, file), executable.includes(file) ? 0o755 : 0o644);
  }
}

/** Every path of the tree (folders too), sorted by bytes as `LC_ALL=C sort` does. */
async function sortedPaths(root: string): Promise<string[]> {
  const found = await exec('sh', ['-c', `cd "${root}" && find . -mindepth 1 | sed 's|^\\./||' | LC_ALL=C sort`]);
  return found.stdout.split('\n').filter(Boolean);
}

/** `sha256:<hex>` of GNU tar's archive of the tree at `root`, by sha256sum. */
async function gnuTarDigest(root: string, mtime: number): Promise<string> {
  const list = path.join(tempDir('nxai-golden-list-'), 'list');
  writeFileSync(list, `${(await sortedPaths(root)).join('\n')}\n`);
  const archive = path.join(path.dirname(list), 'layer.tar');
  await exec('tar', [
    '--create',
    '--format=ustar',
    '--numeric-owner',
    '--owner=0',
    '--group=0',
    `--mtime=@${mtime}`,
    '--no-recursion',
    '--blocking-factor=1',
    `--directory=${root}`,
    `--file=${archive}`,
    `--files-from=${list}`,
  ]);
  const sum = await exec('sha256sum', [archive]);
  return `sha256:${sum.stdout.split(/\s+/)[0]!}`;
}

describe('golden layer digests of a fixed tree', () => {
  let small: string;
  let big: string;
  beforeAll(() => {
    small = tempDir('nxai-golden-small-');
    writeTree(small, SMALL, ['bin/run.sh']);
    big = tempDir('nxai-golden-big-');
    writeTree(big, { [WEIGHT_PATH]: WEIGHT });
  });

  const groupedLayer = (mtime: number) =>
    groupedFilesLayer(
      Object.keys(SMALL).map((file) => ({ sourcePath: path.join(small, file), path: file })),
      { mtime },
    );
  const weightLayer = async (mtime: number) =>
    (await singleFileLayer({ sourcePath: path.join(big, WEIGHT_PATH), path: WEIGHT_PATH }, { mtime })).layer;

  it.each([
    [
      'small files grouped, mtime 0',
      () => small,
      0,
      () => groupedLayer(0),
      'sha256:100669457f6a4cd45e52e021914f37c1ed6d79dbeb56a05aa759a43d1b345f77',
    ],
    [
      'small files grouped, SOURCE_DATE_EPOCH 1700000000',
      () => small,
      1700000000,
      () => groupedLayer(1700000000),
      'sha256:c870407c1788aaeadf2565181be0cd150fc6638d673224eb2c2401541905b2c2',
    ],
    [
      'one large file, mtime 0',
      () => big,
      0,
      () => weightLayer(0),
      'sha256:eaf7599b8115559904f38f9f776e6161850202b4d3a37d038548aa700999bdb3',
    ],
  ] as const)("%s: our layer digest is GNU tar's, and pinned", async (_name, root, mtime, make, pinned) => {
    const layer: Layer = await make();
    const gnu = await gnuTarDigest(root(), mtime);
    expect(layer.descriptor.digest).toBe(gnu);
    expect(layer.diffId).toBe(gnu);
    expect(`sha256:${sha256(Buffer.concat(await collect(layer)))}`).toBe(gnu);
    expect(gnu).toBe(pinned);
  });

  it('the image of both layers: config and manifest are the JSON written out here, and their digests are pinned', async () => {
    const weight = await weightLayer(0);
    const grouped = await groupedLayer(0);
    const image = assembleImage({ layers: [weight, grouped] });
    const history = '{"created":"1970-01-01T00:00:00Z","created_by":"nx-asset-images"}';
    const config =
      `{"architecture":"amd64","config":{},"created":"1970-01-01T00:00:00Z","history":[${history},${history}],"os":"linux",` +
      `"rootfs":{"diff_ids":["${weight.diffId}","${grouped.diffId}"],"type":"layers"}}`;
    expect(image.config.bytes.toString('utf8')).toBe(config);
    const descriptor = (d: { digest: string; size: number }, mediaType: string) =>
      `{"digest":"${d.digest}","mediaType":"${mediaType}","size":${d.size}}`;
    const layerType = 'application/vnd.oci.image.layer.v1.tar';
    const manifest =
      `{"config":${descriptor({ digest: `sha256:${sha256(config)}`, size: Buffer.byteLength(config) }, 'application/vnd.oci.image.config.v1+json')},` +
      `"layers":[${descriptor(weight.descriptor, layerType)},${descriptor(grouped.descriptor, layerType)}],` +
      `"mediaType":"application/vnd.oci.image.manifest.v1+json","schemaVersion":2}`;
    expect(image.manifest.bytes.toString('utf8')).toBe(manifest);
    expect(image.config.descriptor.digest).toBe(`sha256:${sha256(config)}`);
    expect(image.manifest.descriptor.digest).toBe(`sha256:${sha256(manifest)}`);
    expect({ config: image.config.descriptor.digest, manifest: image.manifest.descriptor.digest }).toEqual({
      config: 'sha256:fd8a310fdcf0a17456f2fa3a25066bde3defcc15f0c9fe5ceaca4cbc6069c3c3',
      manifest: 'sha256:be6c146ead103fe8f827a0fd12fd0dc4ddc8c574240c5346d2aaec3e6c61832f',
    });
  });
});

async function collect(layer: Layer): Promise<Buffer[]> {
  const chunks: Buffer[] = [];
  for await (const chunk of layer.open()) chunks.push(chunk as Buffer);
  return chunks;
}
