/**
 * Cross-repository mount: `POST /v2/<name>/blobs/uploads/?mount=<digest>&from=<repo>`.
 * 201: mounted. 202: the registry opened an upload session instead (its Location).
 */
import type { Digest } from '../../oci/image';
import { discardResponseBody, headerValue } from '../../http/response-body';
import { repositoryScope, type RegistrySession } from './registry-session';

export type MountResult = { mounted: true } | { mounted: false; location?: string };

export async function mountBlob(session: RegistrySession, repository: string, digest: Digest, from: string): Promise<MountResult> {
  const response = await session.requestWithRetry({
    method: 'POST',
    path: `/v2/${repository}/blobs/uploads/`,
    query: { mount: digest, from },
    scopes: [repositoryScope(repository, 'pull,push'), repositoryScope(from, 'pull')],
    expect: [201, 202],
  });
  await discardResponseBody(response);
  if (response.status === 201) return { mounted: true };
  const location = headerValue(response, 'location');
  return location ? { mounted: false, location } : { mounted: false };
}
