import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { Digest, Layer } from './image';
import { compressLayer, compressStream } from './compression';
import { CompressionUnavailableError, isCompressionAvailable, layerMediaType } from './layer-codecs';

async function collect(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

const data = Buffer.concat([randomBytes(200_000), Buffer.alloc(300_000, 'abc')]);
const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}` as Digest;

function chunked(bytes: Buffer, size: number): Readable {
  const parts: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) parts.push(bytes.subarray(i, i + size));
  return Readable.from(parts);
}

describe('gzip', () => {
  it('writes a header without mtime or name, OS "unknown", and round-trips', async () => {
    const out = await collect(compressStream(Readable.from([data]), 'gzip'));
    // magic, CM=deflate, FLG=0 (no FNAME/FCOMMENT/FEXTRA), MTIME=0, XFL=0 (level 6), OS=255
    expect(out.subarray(0, 10).toString('hex')).toBe('1f8b08000000000000ff');
    expect(gunzipSync(out).equals(data)).toBe(true);
  });

  it('is deterministic across runs and input chunkings', async () => {
    const runs = await Promise.all([
      collect(compressStream(Readable.from([data]), 'gzip')),
      collect(compressStream(chunked(data, 4096), 'gzip')),
      collect(compressStream(chunked(data, 777), 'gzip')),
      collect(compressStream(chunked(data, 65536 * 3), 'gzip')),
    ]);
    for (const run of runs.slice(1)) expect(run.equals(runs[0]!)).toBe(true);
  });

  it('propagates source errors', async () => {
    const failing = new Readable({
      read() {
        this.destroy(new Error('boom'));
      },
    });
    await expect(collect(compressStream(failing, 'gzip'))).rejects.toThrow('boom');
  });
});

describe('compressLayer', () => {
  const tar = data;
  const layer: Layer = {
    descriptor: { mediaType: layerMediaType('none'), digest: sha(tar), size: tar.length },
    diffId: sha(tar),
    open: () => chunked(tar, 10_000),
  };

  it('describes the compressed bytes and keeps the diffID of the tar', async () => {
    const gz = await compressLayer(layer, 'gzip');
    const bytes = await collect(gz.open());
    expect(gz.descriptor).toEqual({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha(bytes), size: bytes.length });
    expect(gz.diffId).toBe(sha(tar));
    expect(bytes.length).toBeLessThan(tar.length);
    expect((await collect(gz.open())).equals(bytes)).toBe(true);
  });

  it('none returns the layer itself', async () => expect(await compressLayer(layer, 'none')).toBe(layer));

  it('zstd works where Node has it, else fails with CompressionUnavailableError', async () => {
    if (isCompressionAvailable('zstd')) {
      const zst = await compressLayer(layer, 'zstd');
      expect(zst.descriptor.mediaType).toBe('application/vnd.oci.image.layer.v1.tar+zstd');
      expect(zst.descriptor.digest).toBe(sha(await collect(zst.open())));
    } else {
      await expect(compressLayer(layer, 'zstd')).rejects.toBeInstanceOf(CompressionUnavailableError);
      await expect(compressLayer(layer, 'zstd')).rejects.toThrow(/Node\.js 22\.15\+ or 24.*this is Node\.js v/);
    }
  });
});
