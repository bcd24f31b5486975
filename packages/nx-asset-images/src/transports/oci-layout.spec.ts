import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { assembleImage } from '../oci/assemble-image';
import { bytesLayer } from '../oci/bytes-layer';
import type { Digest, Layer } from '../oci/image';
import { blobPath } from '../store/blob-store';
import { BlobDigestMismatchError, OciLayoutRefNotFoundError, readOciLayoutImage, writeOciLayout, writeOciLayoutIndex } from './oci-layout';
import { assembleImageIndex } from '../oci/image-index';

const work = mkdtempSync(join(tmpdir(), 'oci-layout-spec-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
let n = 0;
const freshDir = () => join(work, `layout-${n++}`);

async function collect(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}
const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

const layerA = bytesLayer(Buffer.from('layer A bytes (not really a tar)'));
const layerB = bytesLayer(Buffer.from('layer B bytes'));
const image = assembleImage({ layers: [layerA, layerB] });

describe('writeOciLayout', () => {
  it('writes oci-layout, every blob at its digest, and index.json with ref names', async () => {
    const dir = freshDir();
    const result = await writeOciLayout(dir, image, { refNames: ['v1', 'latest'] });
    expect(readFileSync(join(dir, 'oci-layout'), 'utf8')).toBe('{"imageLayoutVersion":"1.0.0"}');
    const blobs = readdirSync(join(dir, 'blobs', 'sha256')).sort();
    const expected = [layerA.descriptor.digest, layerB.descriptor.digest, image.config.descriptor.digest, image.manifest.descriptor.digest];
    expect(blobs).toEqual(expected.map((d) => d.slice(7)).sort());
    for (const name of blobs) expect(sha(readFileSync(join(dir, 'blobs', 'sha256', name)))).toBe(`sha256:${name}`);
    const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8'));
    expect(index.mediaType).toBe('application/vnd.oci.image.index.v1+json');
    expect(
      index.manifests.map((m: { annotations: Record<string, string>; digest: string }) => [
        m.annotations['org.opencontainers.image.ref.name'],
        m.digest,
      ]),
    ).toEqual([
      ['v1', image.manifest.descriptor.digest],
      ['latest', image.manifest.descriptor.digest],
    ]);
    expect(result).toEqual({ manifestDigest: image.manifest.descriptor.digest, written: expected, skipped: [] });
  });

  it('skips present blobs and merges index.json, replacing entries with the same ref name', async () => {
    const dir = freshDir();
    await writeOciLayout(dir, image, { refNames: ['v1', 'latest'] });
    const before = statSync(blobPath(dir, layerA.descriptor.digest)).mtimeMs;
    const image2 = assembleImage({ layers: [layerA] });
    const result = await writeOciLayout(dir, image2, { refNames: ['latest'] });
    expect(result.skipped).toEqual([layerA.descriptor.digest]);
    expect(statSync(blobPath(dir, layerA.descriptor.digest)).mtimeMs).toBe(before);
    const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8'));
    expect(
      index.manifests.map(
        (m: { annotations: Record<string, string>; digest: string }) => `${m.annotations['org.opencontainers.image.ref.name']}=${m.digest}`,
      ),
    ).toEqual([`v1=${image.manifest.descriptor.digest}`, `latest=${image2.manifest.descriptor.digest}`]);
  });

  it('throws BlobDigestMismatchError and leaves no blob or temp file behind', async () => {
    const dir = freshDir();
    const lying: Layer = { ...layerA, open: () => Readable.from([Buffer.from('other bytes of some length!!!!!')]) };
    const bad = assembleImage({ layers: [lying] });
    const error = await writeOciLayout(dir, bad, { refNames: ['x'] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BlobDigestMismatchError);
    expect(error).toMatchObject({
      expected: layerA.descriptor.digest,
      actual: sha('other bytes of some length!!!!!'),
      size: 'other bytes of some length!!!!!'.length,
    });
    expect(readdirSync(join(dir, 'blobs', 'sha256'))).toEqual([]);
    expect(existsSync(join(dir, 'index.json'))).toBe(false);
  });

  it('keeps every entry when several builds write the same layout at once', async () => {
    const dir = freshDir();
    const images = Array.from({ length: 8 }, (_, i) => assembleImage({ layers: [bytesLayer(Buffer.from(`layer ${i}`))] }));
    await Promise.all(images.map((img, i) => writeOciLayout(dir, img, { refNames: [`asset-${i}:1`] })));
    const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8'));
    const refs = index.manifests
      .map((m: { annotations: Record<string, string> }) => m.annotations['org.opencontainers.image.ref.name'])
      .sort();
    expect(refs).toEqual(images.map((_, i) => `asset-${i}:1`).sort());
    expect(existsSync(join(dir, 'index.json.lock'))).toBe(false);
  });

  it('reports progress per blob', async () => {
    const events: { label: string; bytes: number; total?: number }[] = [];
    await writeOciLayout(freshDir(), image, { refNames: [], onProgress: (e) => events.push(e) });
    expect(events).toContainEqual({ label: layerA.descriptor.digest, bytes: layerA.descriptor.size, total: layerA.descriptor.size });
  });
});

describe('readOciLayoutImage', () => {
  it('reads back the same image by ref name and by digest; layers stream the blob files', async () => {
    const dir = freshDir();
    await writeOciLayout(dir, image, { refNames: ['v1'] });
    for (const ref of ['v1', image.manifest.descriptor.digest]) {
      const read = await readOciLayoutImage(dir, ref);
      expect(read.manifest.descriptor.digest).toBe(image.manifest.descriptor.digest);
      expect(read.config.bytes.equals(image.config.bytes)).toBe(true);
      expect(read.layers.map((l) => [l.descriptor.digest, l.diffId])).toEqual(image.layers.map((l) => [l.descriptor.digest, l.diffId]));
      expect((await collect(read.layers[1]!.open())).toString()).toBe('layer B bytes');
    }
  });

  it('names what the layout has when the ref is missing', async () => {
    const dir = freshDir();
    await writeOciLayout(dir, image, { refNames: ['v1'] });
    await expect(readOciLayoutImage(dir, 'v2')).rejects.toThrow(OciLayoutRefNotFoundError);
    await expect(readOciLayoutImage(dir, 'v2')).rejects.toThrow(/it has: v1/);
  });

  it('detects a corrupted manifest blob', async () => {
    const dir = freshDir();
    await writeOciLayout(dir, image, { refNames: ['v1'] });
    writeFileSync(blobPath(dir, image.manifest.descriptor.digest as Digest), '{}');
    await expect(readOciLayoutImage(dir, 'v1')).rejects.toBeInstanceOf(BlobDigestMismatchError);
  });
});

describe('writeOciLayoutIndex (multi-platform)', () => {
  const multi = assembleImageIndex({
    layers: [layerA, layerB],
    platforms: [
      { os: 'linux', architecture: 'amd64' },
      { os: 'linux', architecture: 'arm64' },
    ],
  });

  it('writes the shared layers once, a config and manifest per platform, the index blob, and index.json naming the index', async () => {
    const dir = freshDir();
    const result = await writeOciLayoutIndex(dir, multi, { refNames: ['0.1'] });
    expect(result.manifestDigest).toBe(multi.index.descriptor.digest);
    const expected = [
      layerA.descriptor.digest,
      layerB.descriptor.digest,
      ...multi.images.flatMap(({ image: i }) => [i.config.descriptor.digest, i.manifest.descriptor.digest]),
      multi.index.descriptor.digest,
    ];
    expect(readdirSync(join(dir, 'blobs', 'sha256')).sort()).toEqual(expected.map((d) => d.slice(7)).sort());
    expect(result.written).toHaveLength(expected.length);
    const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8'));
    expect(index.manifests).toEqual([
      expect.objectContaining({
        mediaType: 'application/vnd.oci.image.index.v1+json',
        digest: multi.index.descriptor.digest,
        annotations: { 'org.opencontainers.image.ref.name': '0.1' },
      }),
    ]);
    // A second write has nothing to do.
    expect((await writeOciLayoutIndex(dir, multi, { refNames: ['0.1'] })).written).toEqual([]);
  });

  it.each([
    [{ os: 'linux', architecture: 'amd64' }, 0],
    [{ os: 'linux', architecture: 'arm64' }, 1],
    [undefined, 0],
  ])('reads back the image of %j by ref name and by index digest', async (platform, which) => {
    const dir = freshDir();
    await writeOciLayoutIndex(dir, multi, { refNames: ['0.1'] });
    for (const ref of ['0.1', multi.index.descriptor.digest]) {
      const read = await readOciLayoutImage(dir, ref, platform);
      expect(read.manifest.descriptor.digest).toBe(multi.images[which]!.image.manifest.descriptor.digest);
      expect(read.config.bytes.equals(multi.images[which]!.image.config.bytes)).toBe(true);
      expect((await collect(read.layers[0]!.open())).toString()).toBe('layer A bytes (not really a tar)');
    }
  });

  it('a platform the index lacks is an error naming the ones it has', async () => {
    const dir = freshDir();
    await writeOciLayoutIndex(dir, multi, { refNames: ['0.1'] });
    await expect(readOciLayoutImage(dir, '0.1', { os: 'linux', architecture: 's390x' })).rejects.toThrow(
      /no manifest for linux\/s390x \(it has linux\/amd64, linux\/arm64\)/,
    );
  });
});
