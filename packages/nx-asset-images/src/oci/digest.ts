import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import type { Digest } from './image';

const DIGEST_PATTERN = /^sha256:[0-9a-f]{64}$/;

/** `sha256:<hex>` of the given bytes (a string is hashed as UTF-8). */
export function sha256Digest(bytes: Uint8Array | string): Digest {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** True for `sha256:` followed by exactly 64 lowercase hex digits. */
export function isDigest(value: unknown): value is Digest {
  return typeof value === 'string' && DIGEST_PATTERN.test(value);
}

export class InvalidDigestError extends Error {
  override readonly name = 'InvalidDigestError';
  constructor(readonly value: string) {
    super(`Not a sha256 digest: ${JSON.stringify(value)}`);
  }
}

/** The 64 hex digits of a digest (the blob's file name in an OCI layout). */
export function digestHex(digest: Digest): string {
  if (!isDigest(digest)) throw new InvalidDigestError(digest);
  return digest.slice('sha256:'.length);
}

/**
 * A pass-through stream that hashes (sha256) and counts every byte going
 * through it. `digest()` and `size` are final once the stream has finished.
 */
export class DigestingPassThrough extends Transform {
  private readonly hash: Hash = createHash('sha256');
  private finalDigest: Digest | undefined;
  /** Bytes seen so far. */
  size = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.hash.update(chunk);
    this.size += chunk.length;
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    this.finalDigest = `sha256:${this.hash.digest('hex')}`;
    callback();
  }

  /** The sha256 of all bytes; throws if the stream has not finished yet. */
  digest(): Digest {
    if (this.finalDigest === undefined) throw new Error('DigestingPassThrough: digest() called before the stream finished');
    return this.finalDigest;
  }
}

/** Reads a stream to its end and returns the sha256 and byte count of what it produced. */
export async function digestReadable(source: AsyncIterable<Uint8Array>): Promise<{ digest: Digest; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of source) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { digest: `sha256:${hash.digest('hex')}`, size };
}
