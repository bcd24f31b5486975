/**
 * `GET /v2/<name>/manifests/<tag or digest>`: the manifest bytes, checked
 * against the digest we asked for (or the one the registry states). An index
 * is resolved to one of its manifests (by platform, else the first).
 */
import type { Digest } from '../../oci/image';
import type { ImageReference } from '../../oci/image-reference';
import {
  MEDIA_TYPE_DOCKER_MANIFEST,
  MEDIA_TYPE_DOCKER_MANIFEST_LIST,
  MEDIA_TYPE_OCI_INDEX,
  MEDIA_TYPE_OCI_MANIFEST,
} from '../../oci/media-types';
import { DigestMismatchError, sha256Digest } from '../../oci/digest';
import { headerValue, readResponseBody } from '../../http/response-body';
import { repositoryScope, type RegistrySession } from './registry-session';

export const MANIFEST_ACCEPT = [
  MEDIA_TYPE_OCI_MANIFEST,
  MEDIA_TYPE_DOCKER_MANIFEST,
  MEDIA_TYPE_OCI_INDEX,
  MEDIA_TYPE_DOCKER_MANIFEST_LIST,
].join(', ');

export interface PulledManifest {
  digest: Digest;
  mediaType: string;
  bytes: Buffer;
  /** Parsed JSON (config/layers for an image manifest). */
  json: ManifestJson;
}

export interface ManifestJson {
  mediaType?: string;
  config?: { mediaType: string; digest: Digest; size: number };
  layers?: Array<{ mediaType: string; digest: Digest; size: number }>;
  manifests?: Array<{ mediaType: string; digest: Digest; size: number; platform?: { os?: string; architecture?: string } }>;
}

export async function getManifest(session: RegistrySession, repository: string, reference: string): Promise<PulledManifest> {
  const response = await session.requestWithRetry({
    method: 'GET',
    path: `/v2/${repository}/manifests/${reference}`,
    headers: { accept: MANIFEST_ACCEPT },
    scopes: [repositoryScope(repository, 'pull')],
    expect: [200],
  });
  const bytes = await readResponseBody(response, 16 * 1024 * 1024);
  const digest = sha256Digest(bytes);
  const what = `manifest ${repository}@${reference}`;
  if (reference.startsWith('sha256:') && digest !== reference) throw new DigestMismatchError({ what, expected: reference, actual: digest });
  const stated = headerValue(response, 'docker-content-digest');
  if (stated && stated.startsWith('sha256:') && stated !== digest)
    throw new DigestMismatchError({ what, expected: stated, actual: digest });
  const json = JSON.parse(bytes.toString('utf8')) as ManifestJson;
  const mediaType = json.mediaType ?? headerValue(response, 'content-type')?.split(';')[0]?.trim() ?? MEDIA_TYPE_OCI_MANIFEST;
  return { digest, mediaType, bytes, json };
}

export interface PlatformWanted {
  os: string;
  architecture: string;
}

/** The image manifest for `ref`: an index is followed to the entry for `platform` (default linux/amd64), else its first entry. */
export async function getImageManifest(
  session: RegistrySession,
  ref: ImageReference,
  platform: PlatformWanted = { os: 'linux', architecture: 'amd64' },
): Promise<PulledManifest> {
  const reference = ref.digest ?? ref.tag ?? 'latest';
  const top = await getManifest(session, ref.repository, reference);
  if (!top.json.manifests) return top;
  const entries = top.json.manifests;
  const chosen = entries.find((m) => m.platform?.os === platform.os && m.platform?.architecture === platform.architecture) ?? entries[0];
  if (!chosen) throw new Error(`index ${ref.repository}@${top.digest} lists no manifests`);
  return getManifest(session, ref.repository, chosen.digest);
}
