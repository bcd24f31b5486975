import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Digest, Layer } from '../oci/image';
import { bytesLayer } from '../oci/bytes-layer';
import { MEDIA_TYPE_OCI_LAYER } from '../oci/media-types';
import { digestFrame, frameLayer, singleFileFrame } from './single-file-frame';
import type { TarOptions } from './tar-entries';
import { tarStream } from './tar-stream';

/** Read size for source files: large reads keep per-chunk overhead small against sha256's ~1 GB/s. */
export const SOURCE_READ_CHUNK = 1024 * 1024;

export interface SourceFile {
  /** File on disk. */
  sourcePath: string;
  /** Path inside the image, relative, no leading slash. */
  path: string;
}

/**
 * An uncompressed single-file layer framed around `sourcePath`: one read of
 * the file yields both the file's sha256 and the layer digest; `open()`
 * streams the layer from the file (no temp copy).
 */
export async function singleFileLayer(file: SourceFile, options: TarOptions = {}): Promise<{ layer: Layer; fileDigest: Digest }> {
  const info = await stat(file.sourcePath);
  const frame = singleFileFrame({ path: file.path, mode: info.mode, size: info.size }, options);
  const openFile = () => createReadStream(file.sourcePath, { highWaterMark: SOURCE_READ_CHUNK });
  const digests = await digestFrame(frame, openFile(), file.sourcePath);
  return {
    fileDigest: digests.fileDigest,
    layer: {
      descriptor: { mediaType: MEDIA_TYPE_OCI_LAYER, digest: digests.layerDigest, size: frame.size },
      diffId: digests.layerDigest,
      open: frameLayer(frame, openFile, file.sourcePath),
    },
  };
}

/** An uncompressed layer grouping small files, built in memory (keep it for small files). */
export async function groupedFilesLayer(files: readonly SourceFile[], options: TarOptions = {}): Promise<Layer> {
  const entries = await Promise.all(
    files.map(async (file) => {
      const info = await stat(file.sourcePath);
      return { path: file.path, mode: info.mode, size: info.size, open: () => createReadStream(file.sourcePath) };
    }),
  );
  const chunks: Buffer[] = [];
  for await (const chunk of tarStream(entries, options)) chunks.push(chunk as Buffer);
  return bytesLayer(Buffer.concat(chunks));
}
