/**
 * The Dockerfile an app with digest-pinned asset references is built from:
 * each pinned reference (`<repo>@sha256:…`, `<repo>:<tag>@sha256:…`) becomes
 * the content tag Docker holds that very build under, in the text and in the
 * `--build-arg` values (Docker applies those over the ARG defaults). Docker
 * 20.10 and 25+ alike find a loaded image by tag, never by manifest digest
 * without a pull. Pure.
 */
import type { DigestPin } from './asset-uses';

export interface PinnedDockerfile {
  text: string;
  buildArgs?: Record<string, string>;
}

export function rewriteDigestPins(
  text: string,
  buildArgs: Readonly<Record<string, string>> | undefined,
  pins: readonly DigestPin[],
): PinnedDockerfile {
  // Longest first: `repo:0.1@sha256:x` before a `repo@sha256:x` it does not contain, but never a prefix of another.
  const ordered = [...pins].sort((a, b) => b.use.resolved.length - a.use.resolved.length);
  const rewrite = (value: string): string => ordered.reduce((out, pin) => out.split(pin.use.resolved).join(pin.dockerReference), value);
  return {
    text: rewrite(text),
    ...(buildArgs ? { buildArgs: Object.fromEntries(Object.entries(buildArgs).map(([name, value]) => [name, rewrite(value)])) } : {}),
  };
}
