/**
 * Version tags never change meaning: before a push writes any tag, read what
 * each tag names in the registry (`HEAD /v2/<name>/manifests/<tag>`, the
 * registry's `Docker-Content-Digest`). A tag that names other content and is
 * not listed as mutable stops the push before anything is written, unless
 * forced (then it is reported as moved).
 */
import type { Digest } from '../../oci/image';
import { discardResponseBody, headerValue } from '../../http/response-body';
import { getManifest, MANIFEST_ACCEPT } from './manifest-get';
import { repositoryScope, type RegistrySession } from './registry-session';

/** Tags that may move when nothing says otherwise. */
export const DEFAULT_MUTABLE_TAGS: readonly string[] = ['latest'];

export interface TagPolicy {
  /** Tags that may move to other content (e.g. `latest`). */
  mutable: readonly string[];
  /** Move immutable tags anyway (each move is reported). */
  force?: boolean;
}

export interface TagMove {
  tag: string;
  /** What the tag named before the push. */
  from: Digest;
}

/** What the tag names in the registry, or undefined when it does not exist. */
export async function tagDigest(session: RegistrySession, repository: string, tag: string): Promise<Digest | undefined> {
  const path = `/v2/${repository}/manifests/${tag}`;
  const response = await session.requestWithRetry({
    method: 'HEAD',
    path,
    headers: { accept: MANIFEST_ACCEPT },
    scopes: [repositoryScope(repository, 'pull,push')],
    expect: [200, 404],
  });
  await discardResponseBody(response);
  if (response.status === 404) return undefined;
  const stated = headerValue(response, 'docker-content-digest');
  if (stated?.startsWith('sha256:')) return stated as Digest;
  // A registry that does not state the digest: hash the manifest itself.
  return (await getManifest(session, repository, tag)).digest;
}

export interface TagConflict {
  tag: string;
  held: Digest;
}

/** Pure: the tags that would move to `next`, split into conflicts (refused) and forced moves. */
export function tagDecisions(
  current: ReadonlyMap<string, Digest | undefined>,
  next: Digest,
  policy: TagPolicy,
): { conflicts: TagConflict[]; moves: TagMove[] } {
  const conflicts: TagConflict[] = [];
  const moves: TagMove[] = [];
  for (const [tag, held] of current) {
    if (held === undefined || held === next) continue;
    if (policy.mutable.includes(tag)) moves.push({ tag, from: held });
    else if (policy.force === true) moves.push({ tag, from: held });
    else conflicts.push({ tag, held });
  }
  return { conflicts, moves };
}

/** A push that would move version tags to other content: nothing was written. */
export class ImmutableTagError extends Error {
  override readonly name = 'ImmutableTagError';
  constructor(
    readonly registry: string,
    readonly repository: string,
    readonly next: Digest,
    readonly conflicts: readonly TagConflict[],
  ) {
    super(
      `${conflicts.map((c) => `${registry}/${repository}:${c.tag} names ${c.held}`).join('; ')}, not this image (${next}); ` +
        `version tags never move to other content, so nothing was pushed`,
    );
  }
}
