import type { Digest } from '../oci/image';

/** Bytes streamed for a blob do not match its descriptor. Nothing is left behind. */
export class BlobDigestMismatchError extends Error {
  override readonly name = 'BlobDigestMismatchError';
  constructor(
    readonly expected: Digest,
    readonly actual: Digest,
    /** Bytes actually received. */
    readonly size: number,
    readonly expectedSize: number,
  ) {
    super(
      `Blob content does not match its descriptor: expected ${expected} (${expectedSize} bytes), got ${actual} (${size} bytes). ` +
        `A source file probably changed after it was hashed; rebuild the image.`,
    );
  }
}

export class OciLayoutError extends Error {
  override readonly name = 'OciLayoutError';
  constructor(message: string, readonly dir: string, options?: { cause?: unknown }) {
    super(`${message} (OCI layout ${dir})`, options);
  }
}

export class OciLayoutRefNotFoundError extends Error {
  override readonly name = 'OciLayoutRefNotFoundError';
  constructor(readonly dir: string, readonly ref: string, readonly available: string[]) {
    super(`No image ${JSON.stringify(ref)} in OCI layout ${dir}; it has: ${available.length > 0 ? available.join(', ') : 'nothing'}`);
  }
}
