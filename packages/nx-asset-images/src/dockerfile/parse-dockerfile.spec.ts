import { describe, it, expect } from 'vitest';
import { parseDockerfile } from './parse-dockerfile';
import { findImageReferences, isDockerfileName } from './find-image-references';

/** [kind, line, resolved (or `?raw` when unresolved)] */
type Ref = [string, number, string];

function refsOf(text: string): Ref[] {
  return parseDockerfile(text, 'Dockerfile').imageReferences.map((r) => [r.kind, r.line, r.resolved ?? `?${r.raw}`]);
}

const d = (lines: string[]): string => lines.join('\n') + '\n';

describe('parseDockerfile: image references', () => {
  it.each<[string, string, Ref[]]>([
    ['single stage', d(['FROM node:20-alpine', 'COPY . .', 'CMD ["node", "main.js"]']), [['from', 1, 'node:20-alpine']]],
    [
      'multi-stage node build with an asset',
      d([
        'FROM node:20 AS build',
        'WORKDIR /app',
        'COPY package*.json ./',
        'RUN npm ci',
        'COPY . .',
        'RUN npm run build',
        '',
        'FROM node:20-slim',
        'COPY --from=build /app/dist /app',
        'COPY --from=registry.example.com/asset/models-bert:0.1 / /assets/bert/',
        'CMD ["node", "/app/main.js"]',
      ]),
      [
        ['from', 1, 'node:20'],
        ['from', 8, 'node:20-slim'],
        ['copy-from', 10, 'registry.example.com/asset/models-bert:0.1'],
      ],
    ],
    [
      'python with ARG-driven asset version and cache/bind mounts',
      d([
        'ARG PY=3.12',
        'ARG ASSET_REGISTRY=localhost:5000',
        'FROM python:${PY}-slim AS base',
        'ARG ASSET_REGISTRY',
        'ARG TOKENIZER_TAG=0.3',
        'RUN --mount=type=cache,target=/root/.cache/pip pip install torch',
        'RUN --mount=type=bind,from=$ASSET_REGISTRY/asset/tokenizer:${TOKENIZER_TAG},source=/,target=/tok \\',
        '    cp -r /tok /opt/tok',
        'RUN --mount=type=cache,from=base,target=/x true',
      ]),
      [
        ['from', 3, 'python:3.12-slim'],
        ['mount-from', 7, 'localhost:5000/asset/tokenizer:0.3'],
      ],
    ],
    [
      'go build with numeric stage index and scratch',
      d([
        'FROM golang:1.22 AS builder',
        'RUN go build -o /out/app ./cmd/app',
        'FROM scratch',
        'COPY --from=0 /out/app /app',
        'COPY --from=Builder /out/app /app2',
        'COPY --from=asset/weights /w /w',
        'ENTRYPOINT ["/app"]',
      ]),
      [
        ['from', 1, 'golang:1.22'],
        ['copy-from', 6, 'asset/weights'],
      ],
    ],
    [
      'stage names are case-insensitive and FROM <stage> is not an image',
      d(['FROM alpine AS Base', 'FROM BASE AS second', 'FROM second', 'COPY --from=SECOND / /']),
      [['from', 1, 'alpine']],
    ],
    [
      'FROM a later stage name is an image (only earlier stages count)',
      d(['FROM later', 'FROM alpine AS later']),
      [
        ['from', 1, 'later'],
        ['from', 2, 'alpine'],
      ],
    ],
    [
      '--platform flag and lowercase keywords',
      d(['from --platform=$BUILDPLATFORM golang:1.22 as build', 'from --platform=linux/arm64 alpine:3']),
      [
        ['from', 1, 'golang:1.22'],
        ['from', 2, 'alpine:3'],
      ],
    ],
    [
      'global ARG is not visible in a stage until redeclared',
      d(['ARG TAG=1.0', 'FROM alpine', 'COPY --from=asset/x:${TAG} / /', 'ARG TAG', 'COPY --from=asset/y:${TAG} / /']),
      [
        ['from', 2, 'alpine'],
        ['copy-from', 3, '?asset/x:${TAG}'],
        ['copy-from', 5, 'asset/y:1.0'],
      ],
    ],
    [
      'stage ARG overrides, defaults and ENV',
      d([
        'ARG BASE=debian',
        'FROM ${BASE:-ubuntu}:${SUITE:-bookworm}',
        'ARG TAG=2',
        'ENV REPO=asset/env',
        'COPY --from=${REPO}:${TAG} / /',
        'COPY --from=${UNSET:-asset/dflt} / /',
        'ARG A=1 B="two" C',
        'COPY --from=asset/multi:${A}-${B} / /',
      ]),
      [
        ['from', 2, 'debian:bookworm'],
        ['copy-from', 5, 'asset/env:2'],
        ['copy-from', 6, 'asset/dflt'],
        ['copy-from', 8, 'asset/multi:1-two'],
      ],
    ],
    [
      'ARG values that refer to earlier ARGs',
      d(['ARG REG=localhost:5000', 'ARG IMG=${REG}/asset/bert', 'FROM ${IMG}:0.1']),
      [['from', 3, 'localhost:5000/asset/bert:0.1']],
    ],
    [
      'stage name chosen through an ARG',
      d(['FROM alpine AS dev', 'FROM alpine AS final', 'ARG SRC=dev', 'COPY --from=${SRC} / /']),
      [
        ['from', 1, 'alpine'],
        ['from', 2, 'alpine'],
      ],
    ],
    [
      'heredoc bodies are not instructions',
      d([
        'FROM alpine',
        'RUN <<EOF',
        'FROM evil',
        'COPY --from=evil2 / /',
        'EOF',
        'COPY <<EOT /etc/motd',
        'FROM nope',
        'EOT',
        'RUN <<-EOF sh',
        '\tFROM tabs',
        '\tEOF',
        'COPY --from=asset/after / /',
      ]),
      [
        ['from', 1, 'alpine'],
        ['copy-from', 12, 'asset/after'],
      ],
    ],
    [
      'line continuations and comments inside them',
      d(['FROM \\', '  alpine:3 \\', '  AS base', 'COPY \\', '  # a comment in the middle', '  --from=asset/cont:1 \\', '  / /']),
      [
        ['from', 1, 'alpine:3'],
        ['copy-from', 4, 'asset/cont:1'],
      ],
    ],
    [
      'custom escape directive',
      d([
        '# escape=`',
        'FROM mcr.microsoft.com/windows/servercore:ltsc2022 `',
        '  AS win',
        'ARG V=C:\\x',
        'COPY `',
        '  --from=asset/win:1 C:\\a C:\\b',
      ]),
      [
        ['from', 2, 'mcr.microsoft.com/windows/servercore:ltsc2022'],
        ['copy-from', 5, 'asset/win:1'],
      ],
    ],
    ['digests are kept', d([`FROM node:20@sha256:${'b'.repeat(64)}`]), [['from', 1, `node:20@sha256:${'b'.repeat(64)}`]]],
    ['ADD has no --from', d(['FROM alpine', 'ADD --chown=1:1 https://example.com/x /x']), [['from', 1, 'alpine']]],
    ['ONBUILD triggers are ignored', d(['FROM alpine', 'ONBUILD COPY --from=asset/x / /']), [['from', 1, 'alpine']]],
  ])('%s', (_name, text, expected) => {
    expect(refsOf(text)).toEqual(expected);
  });
});

/**
 * Every flag of COPY, ADD, RUN and FROM in Docker's Dockerfile reference (BuildKit's
 * `instructions/parse.go` as of 2026), alone and beside the image-naming flag, before and after it.
 */
const COPY_FLAGS = ['--chown=1000:1000', '--chmod=0444', '--link', '--link=true', '--exclude=*.txt', '--parents'];
const ADD_FLAGS = [
  '--chown=1000:1000',
  '--chmod=0444',
  '--link',
  '--exclude=*.txt',
  '--keep-git-dir=true',
  '--checksum=sha256:' + 'a'.repeat(64),
  '--unpack=true',
];
const RUN_FLAGS = ['--network=none', '--security=insecure', '--device=name=gpu', '--mount=type=cache,target=/root/.cache'];
const IMG = 'registry/asset/m:1';
const MOUNT = `--mount=type=bind,from=${IMG},target=/m`;

describe('parseDockerfile: every instruction flag, in any order', () => {
  const cases: [string, string, Ref[]][] = [];
  for (const flag of COPY_FLAGS) {
    cases.push([`COPY ${flag} alone`, `COPY ${flag} /a /b`, []]);
    cases.push([`COPY ${flag} --from`, `COPY ${flag} --from=${IMG} / /m/`, [['copy-from', 2, IMG]]]);
    cases.push([`COPY --from ${flag}`, `COPY --from=${IMG} ${flag} / /m/`, [['copy-from', 2, IMG]]]);
  }
  cases.push(['COPY with every flag', `COPY ${COPY_FLAGS.join(' ')} --exclude=*.md --from=${IMG} / /m/`, [['copy-from', 2, IMG]]]);
  for (const flag of ADD_FLAGS) {
    cases.push([`ADD ${flag} is never an edge`, `ADD ${flag} https://example.com/${IMG} /b`, []]);
    cases.push([`ADD ${flag} --from is never an edge`, `ADD ${flag} --from=${IMG} / /m/`, []]);
  }
  for (const flag of RUN_FLAGS) {
    cases.push([`RUN ${flag} alone`, `RUN ${flag} true`, []]);
    cases.push([`RUN ${flag} before a mount from`, `RUN ${flag} ${MOUNT} true`, [['mount-from', 2, IMG]]]);
    cases.push([`RUN a mount from before ${flag}`, `RUN ${MOUNT} ${flag} true`, [['mount-from', 2, IMG]]]);
  }
  cases.push([
    'RUN two mounts from two images',
    `RUN ${MOUNT} --mount=from=other/img:2,target=/o true`,
    [
      ['mount-from', 2, IMG],
      ['mount-from', 2, 'other/img:2'],
    ],
  ]);

  it.each(cases)('%s', (_name, instruction, expected) => {
    expect(refsOf(d(['FROM --platform=linux/arm64 base:1', instruction]))).toEqual([['from', 1, 'base:1'], ...expected]);
  });

  it.each<[string, string, Ref[]]>([
    [
      'continuation lines, a syntax directive, lowercase instructions',
      d([
        '# syntax=docker/dockerfile:1.7',
        'from base:1',
        'copy --chown=1000:1000 \\',
        '     --link \\',
        `     --from=${IMG} \\`,
        '     / /m/',
      ]),
      [
        ['from', 2, 'base:1'],
        ['copy-from', 3, IMG],
      ],
    ],
    [
      'quoted --from',
      d(['FROM base:1', `COPY --link --from="${IMG}" / /m/`]),
      [
        ['from', 1, 'base:1'],
        ['copy-from', 2, IMG],
      ],
    ],
    [
      'quoted --mount value',
      d(['FROM base:1', `RUN --network=none --mount="type=bind,from=${IMG},target=/m" true`]),
      [
        ['from', 1, 'base:1'],
        ['mount-from', 2, IMG],
      ],
    ],
    // BuildKit takes a flag only where the word starts with "--" as written.
    ['a quoted word is not a flag', d(['FROM base:1', `RUN "--mount=type=bind,from=${IMG},target=/m" true`]), [['from', 1, 'base:1']]],
    [
      'variables in flag values',
      d([
        'ARG REG=registry',
        'FROM base:1',
        'ARG REG',
        'ARG V=1',
        'ARG UID=1000',
        `COPY --chown=\${UID}:\${UID} --link --from=\${REG}/asset/m:\${V} / /m/`,
      ]),
      [
        ['from', 2, 'base:1'],
        ['copy-from', 6, IMG],
      ],
    ],
    [
      'FROM --platform beside AS with a stage used by a multi-flag COPY',
      d(['FROM --platform=$BUILDPLATFORM base:1 AS b', 'FROM base:2', 'COPY --link --from=b / /']),
      [
        ['from', 1, 'base:1'],
        ['from', 2, 'base:2'],
      ],
    ],
    ['a lone -- ends the flags', d(['FROM base:1', `COPY --link -- --from=${IMG} /m/`]), [['from', 1, 'base:1']]],
  ])('%s', (_name, text, expected) => {
    expect(refsOf(text)).toEqual(expected);
  });

  it('reads --platform beside other words and the stage name after flags', () => {
    const parsed = parseDockerfile(d(['FROM --platform=linux/arm64 base:1 AS Build', 'COPY --chown=1:1 --from=build / /']), 'Dockerfile');
    expect(parsed.stages[0]).toMatchObject({ name: 'build', platform: 'linux/arm64' });
    expect(parsed.warnings).toEqual([expect.objectContaining({ code: 'unknown-stage', line: 2 })]);
  });

  it('warns on two --from flags and keeps both references', () => {
    const parsed = parseDockerfile(d(['FROM base:1', `COPY --from=${IMG} --link --from=other/img:2 / /`]), 'Dockerfile');
    expect(parsed.imageReferences.map((r) => r.resolved)).toEqual(['base:1', IMG, 'other/img:2']);
    expect(parsed.warnings.map((w) => [w.code, w.line])).toEqual([['malformed-from', 2]]);
  });
});

describe('parseDockerfile: stages', () => {
  it('records names, indexes, lines, platforms and bases', () => {
    const parsed = parseDockerfile(
      d(['ARG V=20', 'FROM --platform=linux/amd64 node:${V} AS Deps', 'FROM deps AS build', 'FROM scratch', 'FROM']),
      'apps/api/Dockerfile',
    );
    expect(parsed.fileName).toBe('apps/api/Dockerfile');
    expect(parsed.globalArgs).toEqual([{ name: 'V', value: '20', line: 1 }]);
    expect(parsed.stages).toEqual([
      {
        index: 0,
        name: 'deps',
        line: 2,
        platform: 'linux/amd64',
        base: {
          kind: 'image',
          raw: 'node:${V}',
          resolved: 'node:20',
          reference: { registry: 'docker.io', repository: 'library/node', tag: '20' },
        },
      },
      { index: 1, name: 'build', line: 3, base: { kind: 'stage', raw: 'deps', stageIndex: 0 } },
      { index: 2, line: 4, base: { kind: 'scratch', raw: 'scratch' } },
      { index: 3, line: 5, base: { kind: 'missing' } },
    ]);
  });

  it('reads parser directives', () => {
    const parsed = parseDockerfile(d(['# syntax=docker/dockerfile:1.7', '# escape=`', 'FROM alpine']), 'Dockerfile');
    expect(parsed.directives).toEqual({ syntax: 'docker/dockerfile:1.7', escape: '`' });
    expect(parsed.escapeChar).toBe('`');
  });

  it('is immutable', () => {
    const parsed = parseDockerfile('FROM alpine\n', 'Dockerfile');
    expect(Object.isFrozen(parsed)).toBe(true);
    expect(Object.isFrozen(parsed.stages[0])).toBe(true);
    expect(() => (parsed.imageReferences as unknown[]).push(1)).toThrow();
  });
});

describe('parseDockerfile: malformed input becomes warnings', () => {
  it.each<[string, string, [string, number][]]>([
    ['empty file', '', [['no-from', 1]]],
    ['only comments', '# nothing\n', [['no-from', 1]]],
    ['FROM with no image', d(['FROM', 'RUN true']), [['missing-image', 1]]],
    ['FROM with only a platform', d(['FROM --platform=linux/amd64']), [['missing-image', 1]]],
    ['FROM with an empty ARG', d(['ARG B=', 'FROM ${B}']), [['missing-image', 2]]],
    ['FROM with extra words', d(['FROM alpine extra words']), [['malformed-from', 1]]],
    ['instruction before FROM', d(['RUN true', 'FROM alpine']), [['instruction-before-from', 1]]],
    ['unterminated heredoc', d(['FROM alpine', 'RUN <<EOF', 'echo', 'COPY --from=asset/hidden / /']), [['unterminated-heredoc', 2]]],
    ['ARG without default used in FROM', d(['ARG BASE', 'FROM ${BASE}']), [['unresolved-variable', 2]]],
    ['undeclared variable', d(['FROM alpine', 'COPY --from=asset/x:$NOPE / /']), [['unresolved-variable', 2]]],
    ['uppercase image', d(['FROM Alpine']), [['invalid-image-reference', 1]]],
    ['bad digest', d(['FROM alpine@sha256:123']), [['invalid-image-reference', 1]]],
    ['stage index not earlier', d(['FROM alpine', 'COPY --from=3 / /']), [['unknown-stage', 2]]],
    ['COPY --from its own stage', d(['FROM alpine AS a', 'COPY --from=a / /']), [['unknown-stage', 2]]],
    ['duplicate stage name', d(['FROM alpine AS a', 'FROM alpine AS A']), [['duplicate-stage-name', 2]]],
    ['invalid stage name', d(['FROM alpine AS 1bad']), [['invalid-stage-name', 1]]],
    ['COPY --from= empty', d(['FROM alpine', 'COPY --from= / /']), [['malformed-from', 2]]],
    ['mount with empty from', d(['FROM alpine', 'RUN --mount=type=bind,from=,target=/x true']), [['malformed-mount', 2]]],
  ])('%s', (_name, text, expected) => {
    const parsed = parseDockerfile(text, 'Dockerfile');
    expect(parsed.warnings.map((w) => [w.code, w.line])).toEqual(expected);
    for (const warning of parsed.warnings) expect(warning.message.length).toBeGreaterThan(0);
  });

  it('keeps the unresolved names on the reference', () => {
    const parsed = parseDockerfile(d(['ARG V', 'FROM alpine', 'ARG V', 'COPY --from=asset/x:${V} / /']), 'Dockerfile');
    expect(parsed.imageReferences[1]).toEqual({ raw: 'asset/x:${V}', unresolved: ['V'], kind: 'copy-from', line: 4, stage: 0 });
    expect(parsed.warnings[0]!.message).toMatch(/\$V has no default value/);
  });
});

describe('findImageReferences', () => {
  it('returns only resolved, valid references', () => {
    const parsed = parseDockerfile(
      d(['FROM node:20 AS build', 'FROM Bad', 'COPY --from=$X / /', 'COPY --from=build / /', 'COPY --from=asset/bert:0.1 / /']),
      'Dockerfile',
    );
    expect(findImageReferences(parsed).map((r) => [r.kind, r.resolved, r.reference.repository])).toEqual([
      ['from', 'node:20', 'library/node'],
      ['copy-from', 'asset/bert:0.1', 'asset/bert'],
    ]);
  });
});

describe('isDockerfileName', () => {
  it.each<[string, boolean]>([
    ['Dockerfile', true],
    ['Dockerfile.prod', true],
    ['api.Dockerfile', true],
    ['Dockerfile.dockerignore', false],
    ['api.Dockerfile.dockerignore', false],
    ['dockerfile', false],
    ['Dockerfiles', false],
    ['README.md', false],
  ])('%s -> %s', (name, expected) => {
    expect(isDockerfileName(name)).toBe(expected);
  });
});
