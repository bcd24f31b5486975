import { DigestMismatchError } from '../oci/digest';
import type { Digest } from '../oci/image';

/** Bytes streamed for a blob do not match its descriptor. Nothing is left behind. One of the digest mismatch family (oci/digest). */
export class BlobDigestMismatchError extends DigestMismatchError {
  override readonly name = 'BlobDigestMismatchError';
  // `declare`: the base constructor sets them; class fields would reset them to undefined.
  declare readonly expected: Digest;
  declare readonly actual: Digest;
  /** Bytes actually received. */
  declare readonly size: number;
  declare readonly expectedSize: number;
  constructor(expected: Digest, actual: Digest, size: number, expectedSize: number, options?: { cause?: unknown }) {
    super(
      { what: `blob ${expected}`, expected, actual, size, expectedSize, ...(options?.cause !== undefined ? { cause: options.cause } : {}) },
      `Blob content does not match its descriptor: expected ${expected} (${expectedSize} bytes), got ${actual} (${size} bytes). ` +
        `A source file probably changed after it was hashed; rebuild the image.`,
    );
  }
}

export class OciLayoutError extends Error {
  override readonly name = 'OciLayoutError';
  constructor(
    message: string,
    readonly dir: string,
    options?: { cause?: unknown },
  ) {
    super(`${message} (OCI layout ${dir})`, options);
  }
}

export class OciLayoutRefNotFoundError extends Error {
  override readonly name = 'OciLayoutRefNotFoundError';
  constructor(
    readonly dir: string,
    readonly ref: string,
    readonly available: string[],
  ) {
    super(`No image ${JSON.stringify(ref)} in OCI layout ${dir}; it has: ${available.length > 0 ? available.join(', ') : 'nothing'}`);
  }
}
