import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { extract } from 'tar-stream';
import { afterAll, describe, expect, it } from 'vitest';
import { assembleImage } from '../oci/assemble-image';
import { bytesLayer } from '../oci/bytes-layer';
import { InvalidRepoTagError, dockerArchiveEntries, dockerArchiveSize, dockerArchiveStream, heldBottomLayers } from './docker-archive';
import { parseDockerLoadOutput } from './docker-load';

const work = mkdtempSync(join(tmpdir(), 'docker-archive-spec-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function collect(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

async function untar(bytes: Buffer): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  const ex = extract();
  const done = (async () => {
    for await (const entry of ex) {
      const content = await collect(entry as unknown as AsyncIterable<Uint8Array>);
      if (entry.header.type === 'file') files.set(entry.header.name, content);
    }
  })();
  ex.end(bytes);
  await done;
  return files;
}

const layer = bytesLayer(Buffer.from('a layer'));
const image = assembleImage({ layers: [layer, layer] });
const hex = (d: string) => d.slice('sha256:'.length);

describe('dockerArchiveStream', () => {
  it('carries oci-layout, index.json with image names, manifest.json and each blob once', async () => {
    const bytes = await collect(dockerArchiveStream(image, ['localhost:5000/asset/bert:0.1', 'bert']));
    expect(bytes.length).toBe(dockerArchiveSize(image, ['localhost:5000/asset/bert:0.1', 'bert']));
    const files = await untar(bytes);
    expect([...files.keys()].sort()).toEqual(
      [
        'index.json',
        'manifest.json',
        'oci-layout',
        ...[layer, image.config, image.manifest].map((b) => `blobs/sha256/${hex(b.descriptor.digest)}`),
      ].sort(),
    );
    expect(JSON.parse(files.get('manifest.json')!.toString())).toEqual([
      {
        Config: `blobs/sha256/${hex(image.config.descriptor.digest)}`,
        RepoTags: ['localhost:5000/asset/bert:0.1', 'bert:latest'],
        Layers: [`blobs/sha256/${hex(layer.descriptor.digest)}`, `blobs/sha256/${hex(layer.descriptor.digest)}`],
      },
    ]);
    const index = JSON.parse(files.get('index.json')!.toString());
    expect(index.manifests.map((m: { digest: string; annotations: Record<string, string> }) => [m.digest, m.annotations])).toEqual([
      [
        image.manifest.descriptor.digest,
        { 'io.containerd.image.name': 'localhost:5000/asset/bert:0.1', 'org.opencontainers.image.ref.name': '0.1' },
      ],
      [
        image.manifest.descriptor.digest,
        { 'io.containerd.image.name': 'docker.io/library/bert:latest', 'org.opencontainers.image.ref.name': 'latest' },
      ],
    ]);
    expect(files.get(`blobs/sha256/${hex(image.config.descriptor.digest)}`)!.equals(image.config.bytes)).toBe(true);
    expect(files.get(`blobs/sha256/${hex(layer.descriptor.digest)}`)!.toString()).toBe('a layer');

    const file = join(work, 'archive.tar');
    writeFileSync(file, bytes);
    expect(execFileSync('tar', ['-tf', file], { encoding: 'utf8' })).toContain('manifest.json');
  });

  it('rejects tags that are not image names, and digests', () => {
    expect(() => dockerArchiveStream(image, ['Not A Tag'])).toThrow(InvalidRepoTagError);
    expect(() => dockerArchiveStream(image, [`bert@${layer.descriptor.digest}`])).toThrow(/cannot be named by digest/);
  });
});

describe('parseDockerLoadOutput', () => {
  it.each([
    ['Loaded image: bert:0.1\n', ['bert:0.1'], []],
    ['Loaded image: a:1\nLoaded image: localhost:5000/b:2\n', ['a:1', 'localhost:5000/b:2'], []],
    [`Loaded image ID: sha256:${'a'.repeat(64)}\n`, [], [`sha256:${'a'.repeat(64)}`]],
    ['unrelated\n', [], []],
  ])('%j', (stdout, loaded, imageIds) => expect(parseDockerLoadOutput(stdout)).toEqual({ loaded, imageIds }));
});

describe('layers the engine already holds', () => {
  it.each([
    ['nothing held', ['a', 'b', 'c'], [], 0],
    ['the same stack', ['a', 'b', 'c'], [['a', 'b', 'c']], 3],
    ['the top layer changed', ['a', 'b', 'x'], [['a', 'b', 'c']], 2],
    ['the bottom layer changed: no chain is reusable', ['x', 'b', 'c'], [['a', 'b', 'c']], 0],
    ['the longest prefix of several images', ['a', 'b', 'c'], [['a'], ['a', 'b', 'z'], ['q']], 2],
    ['a held image with more layers', ['a'], [['a', 'b']], 1],
  ])('%s', (_label, diffIds, held, expected) => {
    expect(heldBottomLayers(diffIds, held)).toBe(expected);
  });

  it('leaves out the blobs of the held bottom layers but keeps every layer in manifest.json', () => {
    const layers = [bytesLayer(Buffer.from('bottom')), bytesLayer(Buffer.from('middle')), bytesLayer(Buffer.from('top'))];
    const image = assembleImage({ layers });
    const paths = dockerArchiveEntries(image, ['x:1'], { omitBottomLayers: 2 }).map((e) => e.path);
    const blob = (i: number) => `blobs/sha256/${layers[i]!.descriptor.digest.slice(7)}`;
    expect(paths).not.toContain(blob(0));
    expect(paths).not.toContain(blob(1));
    expect(paths).toContain(blob(2));
    const manifestEntry = dockerArchiveEntries(image, ['x:1'], { omitBottomLayers: 2 }).find((e) => e.path === 'manifest.json')!;
    expect(dockerArchiveSize(image, ['x:1'], { omitBottomLayers: 2 })).toBeLessThan(dockerArchiveSize(image, ['x:1']));
    expect(manifestEntry.size).toBeGreaterThan(0);
  });
});
