/** `PUT /v2/<name>/manifests/<tag or digest>` with the manifest's own media type; checks `Docker-Content-Digest`. */
import type { BytesBlob, Digest } from '../../oci/image';
import { discardResponseBody, headerValue } from '../../http/response-body';
import { RegistryError } from './registry-errors';
import { repositoryScope, type RegistrySession } from './registry-session';

export function manifestMediaType(manifest: BytesBlob): string {
  if (manifest.descriptor.mediaType) return manifest.descriptor.mediaType;
  const parsed = JSON.parse(manifest.bytes.toString('utf8')) as { mediaType?: string };
  if (!parsed.mediaType) throw new Error('manifest without a media type');
  return parsed.mediaType;
}

export async function putManifest(session: RegistrySession, repository: string, reference: string, manifest: BytesBlob): Promise<Digest> {
  const path = `/v2/${repository}/manifests/${reference}`;
  const response = await session.requestWithRetry({
    method: 'PUT',
    path,
    headers: { 'content-type': manifestMediaType(manifest) },
    body: manifest.bytes,
    scopes: [repositoryScope(repository, 'pull,push')],
    expect: [201, 200, 202, 204],
  });
  await discardResponseBody(response);
  const echoed = headerValue(response, 'docker-content-digest');
  if (echoed && echoed !== manifest.descriptor.digest) {
    throw new RegistryError(
      { method: 'PUT', url: session.resolveUrl(path), registry: session.registry, status: response.status },
      `PUT manifest ${repository}:${reference}: registry stored ${echoed}, we sent ${manifest.descriptor.digest}`,
    );
  }
  return manifest.descriptor.digest;
}
