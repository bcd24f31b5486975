/** `HEAD /v2/<name>/blobs/<digest>`: 200 present, 404 absent. */
import type { Digest } from '../../oci/image';
import { discardResponseBody } from '../../http/response-body';
import { repositoryScope, type RegistryRequest, type RegistrySession } from './registry-session';
import type { RequestRetryOption } from './retry';

export async function blobExists(
  session: RegistrySession,
  repository: string,
  digest: Digest,
  actions: 'pull' | 'pull,push' = 'pull',
  options: RequestRetryOption = {},
): Promise<boolean> {
  const request: RegistryRequest = {
    method: 'HEAD',
    path: `/v2/${repository}/blobs/${digest}`,
    scopes: [repositoryScope(repository, actions)],
    expect: [200, 404],
  };
  const response = options.retry === false ? await session.request(request) : await session.requestWithRetry(request);
  await discardResponseBody(response);
  return response.status === 200;
}
