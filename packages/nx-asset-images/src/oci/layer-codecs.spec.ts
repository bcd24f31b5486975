import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import {
  COMPRESSIONS,
  CompressionUnavailableError,
  isCompression,
  LAYER_CODECS,
  layerCodec,
  layerCodecOf,
  type Compression,
} from './layer-codecs';

async function through(bytes: Buffer, transforms: readonly NodeJS.ReadWriteStream[]): Promise<Buffer> {
  const chunks: Buffer[] = [];
  await pipeline([
    Readable.from([bytes]),
    ...transforms,
    async (source: AsyncIterable<Buffer>) => {
      for await (const chunk of source) chunks.push(chunk);
    },
  ] as unknown as NodeJS.ReadWriteStream[]);
  return Buffer.concat(chunks);
}

describe('the codec table', () => {
  it('has none, gzip and zstd, in that order, each with its OCI layer media type', () => {
    expect(LAYER_CODECS.map((codec) => [codec.name, codec.mediaType])).toEqual([
      ['none', 'application/vnd.oci.image.layer.v1.tar'],
      ['gzip', 'application/vnd.oci.image.layer.v1.tar+gzip'],
      ['zstd', 'application/vnd.oci.image.layer.v1.tar+zstd'],
    ]);
    expect(COMPRESSIONS).toEqual(['none', 'gzip', 'zstd']);
  });

  it.each<[unknown, boolean]>([
    ['none', true],
    ['gzip', true],
    ['zstd', true],
    ['lz4', false],
    ['GZIP', false],
    ['', false],
    [undefined, false],
    [1, false],
  ])('isCompression(%j) is %s', (value, expected) => expect(isCompression(value)).toBe(expected));

  it.each<[string, Compression]>([
    ['application/vnd.oci.image.layer.v1.tar', 'none'],
    ['application/vnd.oci.image.layer.v1.tar+gzip', 'gzip'],
    ['application/vnd.oci.image.layer.v1.tar+zstd', 'zstd'],
    ['application/vnd.docker.image.rootfs.diff.tar', 'none'],
    ['application/vnd.docker.image.rootfs.diff.tar.gzip', 'gzip'],
    ['application/vnd.docker.image.rootfs.diff.tar.zstd', 'zstd'],
    ['application/vnd.oci.image.layer.nondistributable.v1.tar+gzip', 'gzip'],
    ['application/octet-stream', 'none'],
  ])('a %s layer is %s', (mediaType, name) => expect(layerCodecOf(mediaType).name).toBe(name));

  const data = Buffer.concat([randomBytes(50_000), Buffer.alloc(100_000, 'abc')]);
  it.each(COMPRESSIONS)(
    '%s: decompress undoes compress where Node has it, else both fail with CompressionUnavailableError',
    async (name) => {
      const codec = layerCodec(name);
      if (!codec.isAvailable()) {
        expect(() => codec.compress()).toThrow(CompressionUnavailableError);
        expect(() => codec.decompress()).toThrow(CompressionUnavailableError);
        return;
      }
      const compressed = await through(data, codec.compress());
      if (name === 'none') expect(compressed.equals(data)).toBe(true);
      else expect(compressed.length).toBeLessThan(data.length);
      expect((await through(compressed, codec.decompress())).equals(data)).toBe(true);
    },
  );

  it('gzip and none are there on every Node.js; zstd where zlib has createZstdCompress', async () => {
    const zlib = await import('node:zlib');
    expect(layerCodec('none').isAvailable()).toBe(true);
    expect(layerCodec('gzip').isAvailable()).toBe(true);
    expect(layerCodec('zstd').isAvailable()).toBe(typeof (zlib as { createZstdCompress?: unknown }).createZstdCompress === 'function');
  });
});
