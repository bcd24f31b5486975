import { describe, expect, it } from 'vitest';
import { findPinnedDigests } from './find-pinned-digests';
import { parseDockerfile } from './parse-dockerfile';

const A = `sha256:${'a'.repeat(64)}`;
const B = `sha256:${'b'.repeat(64)}`;
const d = (lines: string[]): string => lines.join('\n') + '\n';

describe('findPinnedDigests', () => {
  it.each<[string, string, string[]]>([
    ['FROM', d([`FROM asset/a@${A}`]), [A]],
    ['FROM with a tag and --platform', d([`FROM --platform=linux/amd64 asset/a:0.1@${A} AS w`]), [A]],
    ['COPY --from alone', d(['FROM busybox', `COPY --from=asset/a@${A} / /assets/`]), [A]],
    [
      'COPY --from among other flags, in any order',
      d(['FROM busybox', `COPY --link --chown=1000:1000 --from=asset/a@${A} --chmod=644 / /assets/`]),
      [A],
    ],
    ['COPY flags over continuation lines', d(['FROM busybox', 'COPY --link \\', `  --from=asset/a@${A} \\`, '  / /assets/']), [A]],
    ['RUN --mount from=', d(['FROM busybox', `RUN --mount=type=bind,from=asset/a@${A},target=/w cp -r /w /assets`]), [A]],
    ['a global ARG default in FROM', d([`ARG WEIGHTS=asset/a@${A}`, 'FROM ${WEIGHTS} AS w', 'FROM busybox']), [A]],
    [
      'a stage ARG default in COPY --from',
      d(['FROM busybox', `ARG WEIGHTS=asset/a@${A}`, 'COPY --chown=1:1 --from=${WEIGHTS} / /assets/']),
      [A],
    ],
    ['a digest-only ARG default', d(['FROM busybox', `ARG DIGEST=${A}`, 'COPY --link --from=asset/a@${DIGEST} / /assets/']), [A]],
    [
      'a global ARG redeclared in the stage',
      d([`ARG WEIGHTS=asset/a@${A}`, 'FROM busybox', 'ARG WEIGHTS', 'COPY --from=${WEIGHTS} / /a/']),
      [A],
    ],
    [
      'a reference whose registry comes from --build-arg: the digest written at its end',
      d(['ARG REGISTRY', `FROM \${REGISTRY}/asset/a@${A}`]),
      [A],
    ],
    ['distinct, in file order', d([`FROM asset/b@${B} AS b`, `FROM asset/a@${A}`, `COPY --from=asset/b@${B} / /b/`]), [B, A]],
    ['a tag pins nothing', d(['FROM busybox', 'COPY --from=asset/a:0.1 / /assets/']), []],
    ['COPY --from of a stage adds nothing', d([`FROM asset/a@${A} AS w`, 'FROM busybox', 'COPY --from=w / /assets/']), [A]],
    ['a digest in a comment or a command is no pin', d([`# was asset/a@${A}`, 'FROM busybox', `RUN echo ${B}`]), []],
    ['an ARG default no reference uses is no pin', d([`ARG OLD=asset/a@${A}`, 'FROM busybox']), []],
  ])('%s', (_name, text, expected) => {
    expect(findPinnedDigests(parseDockerfile(text, 'Dockerfile'))).toEqual(expected);
  });
});
