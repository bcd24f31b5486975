/**
 * Errors of remote-source downloads. Every `url` field is redacted (no
 * userinfo, no query values); no error ever carries a token or a header.
 */
import { DigestMismatchError } from '../oci/digest';

/**
 * The bytes received do not have the pinned sha256. They were deleted; nothing went into the cache.
 * The package's digest mismatch (`oci/digest.ts`) for a source: `expected`/`actual` are hex, as asset.json pins them.
 */
export class SourceChecksumError extends DigestMismatchError {
  override readonly name = 'SourceChecksumError';
  declare readonly actual: string;
  constructor(
    readonly url: string,
    expected: string,
    actual: string,
  ) {
    super(
      { what: url, expected, actual },
      `checksum mismatch for ${url}: expected sha256 ${expected}, received sha256 ${actual}. ` +
        `The downloaded bytes were deleted. If the file changed upstream on purpose, update "sha256" in asset.json; ` +
        `if not, pin the URL to an immutable revision.`,
    );
  }
}

/** The bytes received are not the pinned `size`. Deleted; nothing went into the cache. */
export class SourceSizeError extends Error {
  override readonly name = 'SourceSizeError';
  constructor(
    readonly url: string,
    readonly expected: number,
    readonly actual: number,
  ) {
    super(`size mismatch for ${url}: expected ${expected} bytes, the server sent ${actual} bytes. The bytes were deleted.`);
  }
}

/** The server answered with a status that retrying does not fix (404, 401, 403, ...), or a retryable one too often. */
export class SourceHttpError extends Error {
  override readonly name = 'SourceHttpError';
  constructor(
    readonly url: string,
    readonly status: number,
    readonly statusText: string,
    /** Advice, e.g. which env variable would hold a token for this host (never its value). */
    readonly hint?: string,
  ) {
    super(`GET ${url} failed: HTTP ${status}${statusText ? ` ${statusText}` : ''}${hint ? `. ${hint}` : ''}`);
  }
}

/** Redirect loops, Location-less redirects, unsupported redirect targets. */
export class SourceProtocolError extends Error {
  override readonly name = 'SourceProtocolError';
  constructor(
    readonly url: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`GET ${url}: ${reason}`, options);
  }
}

/** Every attempt failed with a retryable problem (5xx, 429, network). `cause` is the last failure. */
export class SourceRetriesExhaustedError extends Error {
  override readonly name = 'SourceRetriesExhaustedError';
  constructor(
    readonly url: string,
    readonly attempts: number,
    cause: unknown,
  ) {
    super(`GET ${url} failed after ${attempts} attempts: ${cause instanceof Error ? cause.message : String(cause)}`, {
      cause,
    });
  }
}
