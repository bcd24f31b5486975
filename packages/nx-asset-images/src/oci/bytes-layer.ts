import { Readable } from 'node:stream';
import { sha256Digest } from './digest';
import type { Layer } from './image';
import { MEDIA_TYPE_OCI_LAYER } from './media-types';

/** An uncompressed layer whose tar bytes are held in memory (small grouped layers, tests). */
export function bytesLayer(tar: Buffer): Layer {
  const digest = sha256Digest(tar);
  return {
    descriptor: { mediaType: MEDIA_TYPE_OCI_LAYER, digest, size: tar.length },
    diffId: digest,
    open: () => Readable.from([tar], { objectMode: false }),
  };
}
