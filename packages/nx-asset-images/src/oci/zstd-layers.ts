import { pipeline, type Readable } from 'node:stream';
import { jsonBlob } from './assemble-image';
import type { Image, Layer } from './image';
import { createManifest } from './manifest';
import { MEDIA_TYPE_OCI_LAYER, MEDIA_TYPE_OCI_MANIFEST } from './media-types';
import { CompressionUnavailableError, layerCodec, layerCodecOf } from './layer-codecs';

/**
 * The same image with zstd layers as plain tars: `docker load` before Docker 23
 * rejects zstd layers ("archive/tar: invalid tar header"). The config, and so the
 * image id Docker gives it, is unchanged: diff_ids are digests of the plain tars.
 * Each zstd layer is decompressed once to learn its size (a tar entry needs it up
 * front), then again while streaming; nothing is stored.
 */
export async function withZstdLayersDecompressed(image: Image): Promise<Image> {
  if (!image.layers.some(isZstd)) return image;
  const zstd = layerCodec('zstd');
  if (!zstd.isAvailable()) throw new CompressionUnavailableError('zstd');
  const layers: Layer[] = [];
  for (const layer of image.layers) {
    if (!isZstd(layer)) {
      layers.push(layer);
      continue;
    }
    const open = (): Readable =>
      pipeline([layer.open(), ...zstd.decompress()] as unknown as [Readable, NodeJS.ReadWriteStream], () => {
        // errors surface on the returned stream
      }) as unknown as Readable;
    let size = 0;
    for await (const chunk of open()) size += (chunk as Buffer).length;
    layers.push({ descriptor: { mediaType: MEDIA_TYPE_OCI_LAYER, digest: layer.diffId, size }, diffId: layer.diffId, open });
  }
  const manifest = jsonBlob(
    MEDIA_TYPE_OCI_MANIFEST,
    createManifest({ config: image.config.descriptor, layers: layers.map((layer) => layer.descriptor) }),
  );
  return { manifest, config: image.config, layers };
}

function isZstd(layer: Layer): boolean {
  return layerCodecOf(layer.descriptor.mediaType).name === 'zstd';
}
