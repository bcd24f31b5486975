/**
 * Uploads one blob: monolithic (`POST` then `PUT ?digest=` with the whole
 * body) or chunked (`PATCH` with `Content-Range`, then an empty `PUT`), when
 * asked to or when the registry refuses a large body (413). Every attempt
 * after a failure first asks the registry: blob already there (done), upload
 * status `Range: 0-N` (resume from N+1 by skipping that much of a fresh
 * `open()`), or session gone (restart). The bytes sent are hashed on the way
 * and must match the descriptor before the registry sees the last byte.
 */
import type { Readable } from 'node:stream';
import type { Descriptor } from '../../oci/image';
import type { OnProgress } from '../../util/progress';
import { ByteCursor } from './byte-cursor';
import { DigestVerifier } from '../../oci/digest';
import { discardResponseBody, headerValue } from '../../http/response-body';
import { RegistryError } from './registry-errors';
import { repositoryScope, type RegistrySession } from './registry-session';
import { isRetryableError, withRetry } from './retry';
import { blobExists } from './blob-exists';
import { cancelUpload, nextOffsetFromRange, startUpload, uploadStatus, type UploadSession } from './upload-session';

export interface BlobSource {
  descriptor: Descriptor;
  /** A fresh stream of the blob's bytes on every call. */
  open(): Readable;
}

export interface UploadBlobOptions {
  /** Send in PATCH chunks of this many bytes instead of one PUT body. */
  chunkSize?: number;
  onProgress?: OnProgress;
  /** An upload session already opened (a 202 answer to a mount). */
  session?: UploadSession;
  /** Called once per failed attempt that will be retried. */
  onRetry?: (error: unknown, attempt: number) => void;
}

export const DEFAULT_CHUNK_SIZE = 16 * 1024 * 1024;
/** The requests inside an attempt are tried once: the attempt loop below is their one retry level. */
const ONCE = { retry: false } as const;
const MIN_CHUNK_SIZE = 64 * 1024;

/** Codes and statuses after which the session cannot be continued, but a new one can succeed. */
export function isUploadRestartable(error: unknown): boolean {
  if (!(error instanceof RegistryError) || error.status === undefined) return false;
  if (error.code && ['BLOB_UPLOAD_UNKNOWN', 'BLOB_UPLOAD_INVALID', 'RANGE_INVALID', 'DIGEST_INVALID', 'SIZE_INVALID'].includes(error.code))
    return true;
  return error.status === 404 || error.status === 416;
}

export async function uploadBlob(
  session: RegistrySession,
  repository: string,
  blob: BlobSource,
  options: UploadBlobOptions = {},
): Promise<void> {
  const { digest, size } = blob.descriptor;
  const scopes = [repositoryScope(repository, 'pull,push')];
  let upload: UploadSession | undefined = options.session;
  let chunked = options.chunkSize !== undefined;
  let chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
  let sessionGone = false;

  const progress = (bytes: number) => options.onProgress?.({ label: digest, bytes, total: size });

  const attempt = async ({ attempt: n }: { attempt: number }): Promise<void> => {
    if (n > 1) {
      // A previous attempt failed: find out what the registry holds before sending anything.
      if (await blobExists(session, repository, digest, 'pull,push', ONCE)) return;
      if (upload && !sessionGone) {
        const status = await uploadStatus(session, repository, upload.location);
        if (status) upload = { ...upload, ...status };
        else upload = undefined;
      } else {
        if (upload) void cancelUpload(session, repository, upload.location);
        upload = undefined;
      }
      sessionGone = false;
    }
    if (!upload) upload = await startUpload(session, repository, ONCE);
    if (chunked && upload.chunkMinLength) chunkSize = Math.max(chunkSize, upload.chunkMinLength);

    if (!chunked && upload.offset === 0) {
      try {
        await putMonolithic(upload);
        return;
      } catch (error) {
        if (!(error instanceof RegistryError && error.status === 413)) throw error;
        // Body too large for this registry (or a proxy in front of it): start over in chunks.
        void cancelUpload(session, repository, upload.location);
        upload = await startUpload(session, repository, ONCE);
        chunked = true;
        if (upload.chunkMinLength) chunkSize = Math.max(chunkSize, upload.chunkMinLength);
      }
    }
    for (;;) {
      try {
        await patchFrom(upload, chunked ? chunkSize : Number.MAX_SAFE_INTEGER);
        return;
      } catch (error) {
        // A chunk too large for the registry: halve it and start a new session (the old one may hold part of the refused chunk).
        const floor = Math.max(MIN_CHUNK_SIZE, upload.chunkMinLength ?? 0);
        if (!(error instanceof RegistryError && error.status === 413) || Math.floor(chunkSize / 2) < floor) throw error;
        void cancelUpload(session, repository, upload.location);
        chunked = true;
        chunkSize = Math.floor(chunkSize / 2);
        upload = await startUpload(session, repository, ONCE);
      }
    }
  };

  const putMonolithic = async (current: UploadSession) => {
    const url = session.resolveUrl(current.location, { digest });
    const response = await session.request({
      method: 'PUT',
      path: url.toString(),
      headers: { 'content-type': 'application/octet-stream' },
      body: () => {
        let sent = 0;
        const verified = blob.open().pipe(new DigestVerifier(digest, { what: `blob ${digest}`, size }));
        verified.on('data', (chunk: Buffer) => progress((sent += chunk.length)));
        return verified;
      },
      contentLength: size,
      scopes,
      expect: [201, 204],
    });
    await discardResponseBody(response);
    progress(size);
  };

  const patchFrom = async (current: UploadSession, partSize: number) => {
    const source = blob.open();
    const verifier = new DigestVerifier(digest, { what: `blob ${digest}`, size });
    source.on('error', (e) => verifier.destroy(e));
    const cursor = new ByteCursor(source.pipe(verifier), progress);
    try {
      await cursor.skip(current.offset);
      let offset = current.offset;
      let location = current.location;
      while (offset < size) {
        const length = Math.min(partSize, size - offset);
        const response = await session.request({
          method: 'PATCH',
          path: location,
          headers: { 'content-type': 'application/octet-stream', 'content-range': `${offset}-${offset + length - 1}` },
          body: cursor.take(length), // consumed once: a failure is resumed by the next attempt
          contentLength: length,
          scopes,
          expect: [202, 204],
        });
        await discardResponseBody(response);
        location = headerValue(response, 'location') ?? location;
        const confirmed = nextOffsetFromRange(headerValue(response, 'range'));
        offset += length;
        upload = { ...current, location, offset };
        if (confirmed !== undefined && confirmed !== offset && headerValue(response, 'range') !== undefined) {
          throw new RegistryError(
            { method: 'PATCH', url: session.resolveUrl(location), registry: session.registry, status: 416, code: 'RANGE_INVALID' },
            `PATCH upload of ${digest}: registry holds ${confirmed} bytes, expected ${offset}`,
          );
        }
      }
      await cursor.drain(); // the verifier's final check runs before the registry is asked to commit
      const response = await session.request({
        method: 'PUT',
        path: session.resolveUrl(location, { digest }).toString(),
        scopes,
        expect: [201, 204],
      });
      await discardResponseBody(response);
      progress(size);
    } finally {
      await cursor.close().catch(() => undefined);
      source.destroy();
    }
  };

  await withRetry(attempt, {
    ...session.retry,
    ...(session.signal ? { signal: session.signal } : {}),
    isRetryable: (error) => {
      if (isUploadRestartable(error)) {
        sessionGone = true;
        return true;
      }
      return isRetryableError(error);
    },
    onRetry: (error, n) => options.onRetry?.(error, n),
  });
}
