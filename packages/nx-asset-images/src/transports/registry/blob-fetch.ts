/**
 * `GET /v2/<name>/blobs/<digest>` as a stream verified while it flows: a
 * wrong byte count or digest makes the stream fail at its end, before the
 * last bytes are released.
 *
 * Resumable: when the connection drops mid-body, the next attempt asks for
 * the rest (`Range: bytes=<received>-`) and the stream goes on where it
 * stopped; one hash covers every byte. The answer is read by the one resume
 * rule (`http/range-resume.ts`): a 206 must start at the byte asked for (and
 * name the blob's size as its total, when both are known), a 200 (a server or
 * storage that ignores Range) is read past the bytes already delivered, and
 * an answer that cannot continue them fails the stream: bytes handed on
 * cannot be taken back. Attempts are bounded by the session's retry policy,
 * counted afresh after an attempt that brought new bytes (a flaky but
 * progressing link still finishes).
 */
import type { Readable } from 'node:stream';
import { parseContentLength } from '../../http/content-headers';
import type { RequestResponse } from '../../http/http-request';
import { rangeRequestHeaders, readRangeAnswer, restOfBody } from '../../http/range-resume';
import type { Digest } from '../../oci/image';
import { DigestVerifier } from '../../oci/digest';
import { RegistryError } from './registry-errors';
import { repositoryScope, type RegistryRequest, type RegistrySession } from './registry-session';
import { withRetry, type RequestRetryOption } from './retry';

/**
 * Retries getting the response (unless `retry: false`), and resumes a body
 * that breaks off. With `retry: false` nothing is retried nor resumed: a
 * caller that retries the whole transfer itself retries the whole call.
 */
export interface BlobStreamOptions extends RequestRetryOption {
  /**
   * `false`: the blob's digest is not computed (its size still is checked),
   * for a consumer that verifies every byte it keeps itself against digests
   * it already trusts (asset-pull checks each file against the lock's
   * sha256): one hash pass over the bytes instead of two.
   */
  verifyDigest?: boolean;
}

export async function getBlobStream(
  session: RegistrySession,
  repository: string,
  digest: Digest,
  size?: number,
  options: BlobStreamOptions = {},
): Promise<Readable> {
  const requestFrom = (offset: number): RegistryRequest => ({
    method: 'GET',
    path: `/v2/${repository}/blobs/${digest}`,
    scopes: [repositoryScope(repository, 'pull')],
    expect: offset > 0 ? [200, 206] : [200],
    headers: rangeRequestHeaders(offset),
  });
  const resumable = options.retry !== false;
  const first = resumable ? await session.requestWithRetry(requestFrom(0)) : await session.request(requestFrom(0));
  const expectedSize = size ?? parseContentLength(first.headers['content-length']);
  const verifier = new DigestVerifier(digest, {
    what: `blob ${repository}@${digest}`,
    ...(expectedSize !== undefined ? { size: expectedSize } : {}),
    ...(options.verifyDigest === false ? { sizeOnly: true } : {}),
  });
  // The bytes start flowing at once; an early failure is kept on the stream (`errored`) and
  // reported to whoever consumes it (pipeline, async iteration) rather than thrown as unhandled.
  verifier.on('error', () => undefined);
  if (!resumable) {
    first.body.on('error', (error) => verifier.destroy(error));
    first.body.on('aborted', () => verifier.destroy(connectionClosedEarly(digest)));
    return first.body.pipe(verifier);
  }

  const transfer = { delivered: 0, atAttemptStart: 0 };
  let pending: RequestResponse | undefined = first;
  withRetry(
    async () => {
      transfer.atAttemptStart = transfer.delivered;
      const response = pending ?? (await session.request(requestFrom(transfer.delivered)));
      pending = undefined;
      await deliver(session, response, transfer, verifier, digest, expectedSize);
    },
    {
      ...session.retry,
      ...(session.signal ? { signal: session.signal } : {}),
      madeProgress: () => transfer.delivered > transfer.atAttemptStart,
    },
  ).then(
    () => verifier.end(),
    (error: unknown) => verifier.destroy(error as Error),
  );
  return verifier;
}

/** Writes the body's new bytes into `out` (with backpressure); throws a retryable error when the body breaks off early. */
async function deliver(
  session: RegistrySession,
  response: RequestResponse,
  transfer: { delivered: number },
  out: DigestVerifier,
  digest: Digest,
  expectedSize: number | undefined,
): Promise<void> {
  // 200 or 206 (the request's `expect`): the first response, or the answer to a resume.
  const answer = readRangeAnswer(transfer.delivered, response, expectedSize);
  if (answer.kind !== 'body') {
    response.body.destroy();
    throw new RegistryError(
      { method: 'GET', url: response.url, registry: session.registry, status: response.status },
      `blob ${digest}: ${answer.kind === 'mismatch' ? answer.reason : `HTTP ${response.status} for a resume at byte ${transfer.delivered}`}`,
    );
  }
  let received = 0;
  try {
    for await (const chunk of restOfBody(response.body as AsyncIterable<Buffer>, answer.skip)) {
      received += chunk.length;
      if (out.destroyed) {
        response.body.destroy();
        return;
      }
      transfer.delivered += chunk.length;
      if (!out.write(chunk)) await drained(out);
    }
  } catch (error) {
    if (out.destroyed) return;
    throw Object.assign(connectionClosedEarly(digest), { cause: error });
  }
  const short = (answer.rest !== undefined && received < answer.rest) || (expectedSize !== undefined && transfer.delivered < expectedSize);
  if (short) throw connectionClosedEarly(digest);
}

function drained(stream: DigestVerifier): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.once('drain', done);
    stream.once('close', done);
  });
}

function connectionClosedEarly(digest: Digest): Error {
  return Object.assign(new Error(`blob ${digest}: connection closed early`), { code: 'ECONNRESET' });
}
