/**
 * Image references (`registry/repository:tag@digest`), parsed and normalised
 * the way Docker does (distribution/reference `ParseNormalizedNamed`):
 *
 * - the first path component is a registry only when it contains `.` or `:`,
 *   is `localhost`, or has an uppercase letter; otherwise the registry is the
 *   implicit `docker.io`;
 * - `index.docker.io` is `docker.io`;
 * - a single-component repository on `docker.io` gets the `library/` prefix.
 *
 * Pure: no fs, no Nx.
 */
import { isDigest } from './digest';
import type { Digest } from './image';

export interface ImageReference {
  /** Registry host, with port when given (`localhost:5000`); `docker.io` when implicit. */
  registry: string;
  /** Repository path inside the registry (`library/node`, `asset/models-bert`). */
  repository: string;
  tag?: string;
  digest?: Digest;
}

export const DEFAULT_REGISTRY = 'docker.io';
const LEGACY_DEFAULT_REGISTRY = 'index.docker.io';
const OFFICIAL_REPOSITORY_PREFIX = 'library/';
const NAME_TOTAL_LENGTH_MAX = 255;

export class InvalidImageReferenceError extends Error {
  override readonly name = 'InvalidImageReferenceError';
  constructor(
    readonly input: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`Invalid image reference ${JSON.stringify(input)}: ${reason}`, options);
  }
}

// Grammar from github.com/distribution/reference regexp.go.
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const IPV6 = '\\[(?:[a-fA-F0-9:]+)\\]';
const DOMAIN_RE = new RegExp(`^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|${IPV6})(?::[0-9]+)?$`);
const PATH_COMPONENT_RE = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG_RE = /^[\w][\w.-]{0,127}$/;
const ANY_DIGEST_RE = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;
const HEX64_RE = /^[a-f0-9]{64}$/;

/** Parses `input` into a normalised reference; throws `InvalidImageReferenceError`. */
export function parseImageReference(input: string): ImageReference {
  const fail = (reason: string): never => {
    throw new InvalidImageReferenceError(input, reason);
  };
  if (typeof input !== 'string' || input.length === 0) fail('empty reference');
  if (input !== input.trim() || /\s/.test(input)) fail('contains whitespace');

  let rest = input;
  let digest: Digest | undefined;
  const at = rest.indexOf('@');
  if (at !== -1) {
    const d = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (d.length === 0) fail('empty digest after "@"');
    if (!isDigest(d)) {
      fail(
        ANY_DIGEST_RE.test(d) && !d.startsWith('sha256:')
          ? `unsupported digest "${d}" (only sha256:<64 lowercase hex> is supported)`
          : `malformed digest "${d}"`,
      );
    }
    digest = d as Digest;
  }

  let tag: string | undefined;
  const lastColon = rest.lastIndexOf(':');
  if (lastColon > rest.lastIndexOf('/')) {
    tag = rest.slice(lastColon + 1);
    rest = rest.slice(0, lastColon);
    if (tag.length === 0) fail('empty tag after ":"');
    if (!TAG_RE.test(tag)) fail(`malformed tag "${tag}" (expected [A-Za-z0-9_][A-Za-z0-9_.-]{0,127})`);
  }

  if (rest.length === 0) fail('missing repository name');
  if (rest.length > NAME_TOTAL_LENGTH_MAX) fail(`repository name longer than ${NAME_TOTAL_LENGTH_MAX} characters`);

  let registry = DEFAULT_REGISTRY;
  let repository = rest;
  const slash = rest.indexOf('/');
  if (slash !== -1) {
    const first = rest.slice(0, slash);
    if (/[.:]/.test(first) || first === 'localhost' || first.toLowerCase() !== first) {
      registry = first;
      repository = rest.slice(slash + 1);
      if (!DOMAIN_RE.test(registry)) fail(`malformed registry "${registry}"`);
    }
  }
  if (registry === LEGACY_DEFAULT_REGISTRY) registry = DEFAULT_REGISTRY;

  if (repository.length === 0) fail('missing repository name');
  const components = repository.split('/');
  for (const component of components) {
    if (component.length === 0) fail('empty path component (leading, trailing or doubled "/")');
    if (!PATH_COMPONENT_RE.test(component)) {
      fail(
        component.toLowerCase() !== component
          ? `repository name must be lowercase ("${component}")`
          : `malformed path component "${component}"`,
      );
    }
  }
  if (registry === DEFAULT_REGISTRY && components.length === 1) {
    if (HEX64_RE.test(repository)) fail('a 64-character hexadecimal string is an image ID, not a repository name');
    repository = OFFICIAL_REPOSITORY_PREFIX + repository;
  }

  const ref: ImageReference = { registry, repository };
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  return ref;
}

/** Like `parseImageReference` but returns `undefined` instead of throwing. */
export function tryParseImageReference(input: string): ImageReference | undefined {
  try {
    return parseImageReference(input);
  } catch (error) {
    if (error instanceof InvalidImageReferenceError) return undefined;
    throw error;
  }
}

/** The fully qualified form: `docker.io/library/node:20@sha256:...`. */
export function formatImageReference(ref: ImageReference): string {
  let out = `${ref.registry}/${ref.repository}`;
  if (ref.tag !== undefined) out += `:${ref.tag}`;
  if (ref.digest !== undefined) out += `@${ref.digest}`;
  return out;
}

/** The shortest form Docker would print (`node:20`, `asset/bert`, `localhost:5000/x`). */
export function familiarImageReference(ref: ImageReference): string {
  let name = `${ref.registry}/${ref.repository}`;
  if (ref.registry === DEFAULT_REGISTRY) {
    name =
      ref.repository.startsWith(OFFICIAL_REPOSITORY_PREFIX) && ref.repository.split('/').length === 2
        ? ref.repository.slice(OFFICIAL_REPOSITORY_PREFIX.length)
        : ref.repository;
  }
  if (ref.tag !== undefined) name += `:${ref.tag}`;
  if (ref.digest !== undefined) name += `@${ref.digest}`;
  return name;
}

/**
 * `registry/repository`, tag and digest dropped: the key two references are
 * matched by (registry host compared case-insensitively, as DNS does).
 */
export function repositoryKey(ref: ImageReference): string {
  return `${ref.registry.toLowerCase()}/${ref.repository}`;
}

export function withTag(ref: ImageReference, tag: string): ImageReference {
  if (!TAG_RE.test(tag)) throw new InvalidImageReferenceError(`${formatImageReference(ref)}:${tag}`, `malformed tag "${tag}"`);
  return { registry: ref.registry, repository: ref.repository, tag, ...(ref.digest ? { digest: ref.digest } : {}) };
}

export function withDigest(ref: ImageReference, digest: Digest): ImageReference {
  if (!isDigest(digest)) throw new InvalidImageReferenceError(`${formatImageReference(ref)}@${digest}`, `malformed digest "${digest}"`);
  return { registry: ref.registry, repository: ref.repository, ...(ref.tag !== undefined ? { tag: ref.tag } : {}), digest };
}

/** The reference without tag and digest. */
export function withoutTagOrDigest(ref: ImageReference): ImageReference {
  return { registry: ref.registry, repository: ref.repository };
}
