/**
 * `GET /v2/<name>/blobs/<digest>` as a stream verified while it flows: a
 * wrong byte count or digest makes the stream fail at its end, before the
 * last bytes are released.
 */
import type { Readable } from 'node:stream';
import type { Digest } from '../../oci/image';
import { DigestVerifier } from '../../oci/digest';
import { repositoryScope, type RegistryRequest, type RegistrySession } from './registry-session';
import type { RequestRetryOption } from './retry';

/**
 * Retries getting the response (unless `retry: false`), not the body: a caller
 * that wants a failed body retried retries the whole call, with `retry: false`.
 */
export async function getBlobStream(
  session: RegistrySession,
  repository: string,
  digest: Digest,
  size?: number,
  options: RequestRetryOption = {},
): Promise<Readable> {
  const request: RegistryRequest = {
    method: 'GET',
    path: `/v2/${repository}/blobs/${digest}`,
    scopes: [repositoryScope(repository, 'pull')],
    expect: [200],
  };
  const response = options.retry === false ? await session.request(request) : await session.requestWithRetry(request);
  const length = response.headers['content-length'] !== undefined ? Number(response.headers['content-length']) : undefined;
  const expectedSize = size ?? length;
  const verifier = new DigestVerifier(digest, {
    what: `blob ${repository}@${digest}`,
    ...(expectedSize !== undefined ? { size: expectedSize } : {}),
  });
  response.body.on('error', (error) => verifier.destroy(error));
  response.body.on('aborted', () =>
    verifier.destroy(Object.assign(new Error(`blob ${digest}: connection closed early`), { code: 'ECONNRESET' })),
  );
  // The bytes start flowing at once; an early failure is kept on the stream (`errored`) and
  // reported to whoever consumes it (pipeline, async iteration) rather than thrown as unhandled.
  verifier.on('error', () => undefined);
  return response.body.pipe(verifier);
}
