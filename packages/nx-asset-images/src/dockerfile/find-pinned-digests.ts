import { isDigest } from '../oci/digest';
import type { Digest } from '../oci/image';
import type { ParsedDockerfile } from './parsed-dockerfile';

/** The digest after the last `@` of a reference as written, when it is one. */
function trailingDigest(text: string): Digest | undefined {
  const tail = text.slice(text.lastIndexOf('@') + 1);
  return text.includes('@') && isDigest(tail) ? tail : undefined;
}

/**
 * The image digests a Dockerfile pins, distinct, in file order: the digest of
 * every image reference (`FROM`, `COPY --from` with any flags, `RUN --mount`
 * `from=`) after ARG and ENV substitution with their defaults. A reference
 * that does not resolve to a valid one (a variable without a default, given by
 * `--build-arg`: `FROM ${REGISTRY}/asset/bert@sha256:…`) still pins the digest
 * written at its end. Stages and `scratch` pin nothing. Pure.
 */
export function findPinnedDigests(parsed: ParsedDockerfile): Digest[] {
  const digests = new Set<Digest>();
  for (const ref of parsed.imageReferences) {
    const digest = ref.reference?.digest ?? trailingDigest(ref.resolved ?? ref.raw);
    if (digest !== undefined) digests.add(digest);
  }
  return [...digests];
}
