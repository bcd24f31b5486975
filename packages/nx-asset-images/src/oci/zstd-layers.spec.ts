import { describe, expect, it } from 'vitest';
import { assembleImage } from './assemble-image';
import { bytesLayer } from './bytes-layer';
import { compressLayer } from './compression';
import type { Layer } from './image';
import { CompressionUnavailableError, isCompressionAvailable } from './layer-codecs';
import { withZstdLayersDecompressed } from './zstd-layers';

const tar = Buffer.alloc(20_000, 'weights');
const plain = bytesLayer(tar);

async function bytesOf(layer: Layer): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of layer.open()) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('withZstdLayersDecompressed', () => {
  it('gives an image without zstd layers back as it is', async () => {
    const image = assembleImage({ layers: [plain, await compressLayer(plain, 'gzip')] });
    expect(await withZstdLayersDecompressed(image)).toBe(image);
  });

  it('makes zstd layers plain tars under the same config where Node has zstd, else fails with CompressionUnavailableError', async () => {
    if (!isCompressionAvailable('zstd')) {
      const zstdTyped: Layer = { ...plain, descriptor: { ...plain.descriptor, mediaType: 'application/vnd.oci.image.layer.v1.tar+zstd' } };
      await expect(withZstdLayersDecompressed(assembleImage({ layers: [zstdTyped] }))).rejects.toBeInstanceOf(CompressionUnavailableError);
      return;
    }
    const image = assembleImage({ layers: [await compressLayer(plain, 'zstd'), plain] });
    const loaded = await withZstdLayersDecompressed(image);
    expect(loaded.config).toBe(image.config);
    expect(loaded.layers.map((layer) => layer.descriptor)).toEqual([plain.descriptor, plain.descriptor]);
    expect((await bytesOf(loaded.layers[0]!)).equals(tar)).toBe(true);
  });
});
