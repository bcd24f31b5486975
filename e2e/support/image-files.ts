// The regular files of an image's layers, as a container would see them: path -> sha256.
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import * as tar from 'tar-stream';

/** Every regular file of the image's (uncompressed) layers, applied in order, path -> sha256. */
export async function imageFiles(layers: readonly { open(): Readable }[]): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const layer of layers) {
    const extract = tar.extract();
    const done = new Promise<void>((resolve, reject) => {
      extract.on('entry', (header, stream, next) => {
        const hash = createHash('sha256');
        stream.on('data', (chunk: unknown) => hash.update(chunk as Buffer));
        stream.on('end', () => {
          if (header.type === 'file') files.set(header.name.replace(/^\.?\//, ''), hash.digest('hex'));
          next();
        });
        stream.on('error', reject);
      });
      extract.on('finish', resolve);
      extract.on('error', reject);
    });
    layer.open().pipe(extract);
    await done;
  }
  return files;
}
