/**
 * A stage that joins small chunks into writes of at least `minBytes` (the last one may be shorter), before a
 * pipe to another process: a tar of 20,000 small files is ~60,000 chunks (header, content, padding), and each
 * chunk written alone to a child's stdin is a system call and a libuv write on the main thread. Chunks at least
 * `minBytes` long, with nothing pending, pass as they are (no copy). The bytes and their order are unchanged.
 *
 * Hand-written rather than a library: a dozen lines over `Transform`, and the packages that batch streams
 * (e.g. `block-stream2`) cut to fixed sizes, which copies every big chunk.
 */
import { Transform, type TransformCallback } from 'node:stream';

/** Default write size: a few pages of a pipe's buffer, far above a tar header. */
export const DEFAULT_COALESCE_BYTES = 256 * 1024;

export function coalesceChunks(minBytes: number = DEFAULT_COALESCE_BYTES): Transform {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const flushPending = (stream: Transform) => {
    if (pendingBytes === 0) return;
    stream.push(pending.length === 1 ? pending[0] : Buffer.concat(pending, pendingBytes));
    pending = [];
    pendingBytes = 0;
  };
  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      if (pendingBytes === 0 && chunk.length >= minBytes) {
        callback(null, chunk);
        return;
      }
      pending.push(chunk);
      pendingBytes += chunk.length;
      if (pendingBytes >= minBytes) flushPending(this);
      callback();
    },
    flush(callback: TransformCallback) {
      flushPending(this);
      callback();
    },
  });
}
