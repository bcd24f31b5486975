import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import type { Digest } from './image';

/** `sha256:` and 64 lowercase hex digits: the one digest form of the package (OCI allows others; it writes and reads only this). */
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

/**
 * The sha256 of exactly `size` bytes from `source`, each chunk handed to `onChunk` (awaited) once hashed: what a
 * layer sink checks its bytes with. `sizeError(actual)` is thrown as soon as the bytes exceed `size`, or at the end
 * when they fall short.
 */
export async function digestExactly(
  source: AsyncIterable<Uint8Array>,
  size: number,
  sizeError: (actual: number) => Error,
  onChunk?: (chunk: Buffer) => Promise<void>,
): Promise<Digest> {
  const hash = createHash('sha256');
  let seen = 0;
  for await (const chunk of source) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
    seen += buffer.length;
    if (seen > size) throw sizeError(seen);
    hash.update(buffer);
    await onChunk?.(buffer);
  }
  if (seen !== size) throw sizeError(seen);
  return `sha256:${hash.digest('hex')}`;
}

export interface DigestMismatchFields {
  /** What the bytes were, for the message: `blob sha256:…`, `manifest a/b@1.0`, a source's URL. */
  what: string;
  /** The digest the bytes should have, as the pin states it (`sha256:<hex>`; a source's pin is bare hex). */
  expected: string;
  /** The digest they have; undefined when reading stopped early (more bytes than `expectedSize`). */
  actual?: string;
  expectedSize?: number;
  /** Bytes received (when reading stopped early: as far as it got). */
  size?: number;
  cause?: unknown;
}

/**
 * Bytes did not hash to the digest (or have the size) that described them.
 * The one mismatch error of the package: the registry client, the downloader
 * and the OCI layout throw it or a subclass of it.
 */
export class DigestMismatchError extends Error {
  override readonly name: string = 'DigestMismatchError';
  readonly what: string;
  readonly expected: string;
  readonly actual?: string;
  readonly expectedSize?: number;
  readonly size?: number;

  constructor(fields: DigestMismatchFields, message?: string) {
    super(message ?? describeMismatch(fields), fields.cause !== undefined ? { cause: fields.cause } : undefined);
    this.what = fields.what;
    this.expected = fields.expected;
    if (fields.actual !== undefined) this.actual = fields.actual;
    if (fields.expectedSize !== undefined) this.expectedSize = fields.expectedSize;
    if (fields.size !== undefined) this.size = fields.size;
  }
}

function describeMismatch({ what, expected, actual, expectedSize, size }: DigestMismatchFields): string {
  const bytes = (n: number | undefined) => (n === undefined ? '' : ` (${n} bytes)`);
  if (actual === undefined) return `${what}: expected ${expected}${bytes(expectedSize)}, received more than ${expectedSize} bytes`;
  return `${what}: expected ${expected}${bytes(expectedSize)}, got ${actual}${size !== undefined && expectedSize !== undefined ? bytes(size) : ''}`;
}

export interface VerifyOptions {
  /** What the bytes are, for the error (`blob sha256:…`). */
  what: string;
  /** Exact byte count expected; more fails at once, fewer at the end. */
  size?: number;
  /**
   * Check only the size, not the digest: for a consumer that verifies every
   * byte it keeps against digests it trusts (asset-pull: each file against
   * the lock's sha256), so the bytes are hashed once, not twice.
   */
  sizeOnly?: boolean;
}

/**
 * A pass-through that hashes (sha256) what flows and holds back its last
 * chunk until the end: when the bytes do not hash to `expected` (or have the
 * wrong size) it fails with `DigestMismatchError` instead of releasing them,
 * so a consumer (an HTTP request body, a temp file) never sees a complete
 * wrong blob. `size` counts the bytes seen so far.
 */
export class DigestVerifier extends Transform {
  private readonly hash: Hash = createHash('sha256');
  private held: Buffer | undefined;
  size = 0;

  constructor(
    readonly expected: Digest,
    private readonly options: VerifyOptions,
  ) {
    super();
    if (!isDigest(expected)) throw new InvalidDigestError(expected);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.options.sizeOnly !== true) this.hash.update(chunk);
    this.size += chunk.length;
    const { size: expectedSize, what } = this.options;
    if (expectedSize !== undefined && this.size > expectedSize) {
      callback(new DigestMismatchError({ what, expected: this.expected, expectedSize, size: this.size }));
      return;
    }
    const out = this.held;
    this.held = chunk;
    callback(null, out);
  }

  override _flush(callback: TransformCallback): void {
    const actual: Digest = this.options.sizeOnly === true ? this.expected : `sha256:${this.hash.digest('hex')}`;
    const { size: expectedSize, what } = this.options;
    if (actual !== this.expected || (expectedSize !== undefined && this.size !== expectedSize)) {
      callback(
        new DigestMismatchError({
          what,
          expected: this.expected,
          actual,
          size: this.size,
          ...(expectedSize !== undefined ? { expectedSize } : {}),
        }),
      );
      return;
    }
    callback(null, this.held);
  }
}

/** Throws `DigestMismatchError` unless `bytes` hash to `expected` (and have `size` bytes, when given). */
export function verifyBytes(bytes: Uint8Array, expected: string, options: VerifyOptions): void {
  const actual = sha256Digest(bytes);
  if (actual === expected && (options.size === undefined || bytes.length === options.size)) return;
  throw new DigestMismatchError({
    what: options.what,
    expected,
    actual,
    size: bytes.length,
    ...(options.size !== undefined ? { expectedSize: options.size } : {}),
  });
}
