import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import * as zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { Digest, Layer } from './image';
import { assembleImage } from './assemble-image';
import { compressLayer, compressStream } from './compression';
import { CompressionUnavailableError, isCompressionAvailable, layerMediaType } from './layer-codecs';
import { withZstdLayersDecompressed } from './zstd-layers';

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
    expect(zlib.gunzipSync(out).equals(data)).toBe(true);
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

  // Node.js has zstd from 22.15 (and 24, 26); on Node.js 20 the codec is refused with a clear error, never skipped.
  const zstdDecompress = (zlib as unknown as { zstdDecompressSync?: (bytes: Buffer) => Buffer }).zstdDecompressSync;

  it('zstd where Node has it: the layer decompresses to the tar, whose sha256 is the diffID; else CompressionUnavailableError', async () => {
    expect(isCompressionAvailable('zstd')).toBe(typeof zstdDecompress === 'function');
    if (zstdDecompress) {
      const zst = await compressLayer(layer, 'zstd');
      const bytes = await collect(zst.open());
      expect(zst.descriptor).toEqual({ mediaType: 'application/vnd.oci.image.layer.v1.tar+zstd', digest: sha(bytes), size: bytes.length });
      expect(bytes.subarray(0, 4).toString('hex')).toBe('28b52ffd'); // zstd frame magic
      const plain = zstdDecompress(bytes);
      expect(plain.equals(tar)).toBe(true);
      expect(sha(plain)).toBe(zst.diffId);
      expect(zst.diffId).toBe(layer.diffId);
    } else {
      await expect(compressLayer(layer, 'zstd')).rejects.toBeInstanceOf(CompressionUnavailableError);
      await expect(compressLayer(layer, 'zstd')).rejects.toThrow(
        `zstd layer compression needs zlib.createZstdCompress (Node.js 22.15+ or 24); this is Node.js ${process.version}. Use "compression": "gzip" or "none", or upgrade Node.js.`,
      );
    }
  });

  it('for an engine without zstd (Docker 20.10), the image gets plain tars: each layer is the bytes of its diffID, config unchanged', async () => {
    if (zstdDecompress) {
      const zst = await compressLayer(layer, 'zstd');
      const image = assembleImage({ layers: [zst] });
      const plain = await withZstdLayersDecompressed(image);
      expect(plain.config).toBe(image.config);
      expect(plain.layers.map((l) => l.descriptor)).toEqual([
        { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layer.diffId, size: tar.length },
      ]);
      const bytes = await collect(plain.layers[0]!.open());
      expect(bytes.equals(tar)).toBe(true);
      expect(JSON.parse(plain.manifest.bytes.toString('utf8')).layers).toEqual(plain.layers.map((l) => l.descriptor));
    } else {
      // Without zstd in Node.js no zstd layer can be made here; a zstd-typed layer (as an OCI layout may hold) is refused clearly.
      const zstdTyped: Layer = { ...layer, descriptor: { ...layer.descriptor, mediaType: 'application/vnd.oci.image.layer.v1.tar+zstd' } };
      await expect(withZstdLayersDecompressed(assembleImage({ layers: [zstdTyped] }))).rejects.toBeInstanceOf(CompressionUnavailableError);
    }
  });
});
