/** `HEAD /v2/<name>/blobs/<digest>`: 200 present, 404 absent. */
import type { Digest } from '../../oci/image';
import { discardResponseBody } from './http-request';
import { repositoryScope, type RegistrySession } from './registry-session';

export async function blobExists(session: RegistrySession, repository: string, digest: Digest, actions: 'pull' | 'pull,push' = 'pull'): Promise<boolean> {
  const response = await session.requestWithRetry({
    method: 'HEAD',
    path: `/v2/${repository}/blobs/${digest}`,
    scopes: [repositoryScope(repository, actions)],
    expect: [200, 404],
  });
  await discardResponseBody(response);
  return response.status === 200;
}
