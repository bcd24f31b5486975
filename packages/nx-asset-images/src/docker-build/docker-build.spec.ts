import { describe, expect, it } from 'vitest';
import type { AssetImageResult } from '../asset/asset-image-result';
import { dockerPresence } from '../resolve/docker-presence';
import { parseDockerfile } from '../dockerfile/parse-dockerfile';
import { parseImageReference, repositoryKey } from '../oci/image-reference';
import type { AssetProject, AssetProjectMap } from '../asset/asset-project';
import { AssetTagMismatchError, digestPinsOf, findAssetUses, requiredReferencesByAsset } from './asset-uses';
import { rewriteDigestPins } from './pinned-dockerfile';
import { buildxDecision, layoutBuildContextMap, legacyBuilderAsked } from './buildx-contexts';
import { defaultTags, dockerBuildArgv, exportCompressionOf } from './docker-build-argv';
import { applyBuildArgs, quoteArgValue } from './dockerfile-build-args';
import type { DockerBuildOptions } from './docker-build-options';

const CONFIG = `sha256:${'c'.repeat(64)}` as const;
const MANIFEST = `sha256:${'m'.replace('m', 'a').repeat(64)}` as const;

function asset(projectName: string, image: string, root = `assets/${projectName}`): AssetProject {
  return {
    projectName,
    root,
    reference: parseImageReference(image),
    resultDir: `dist/asset-images/${projectName}`,
    imageTargetOptions: {},
  };
}
const BERT = asset('bert', 'localhost:5000/asset/bert');
const TOK = asset('tok', 'asset/tok');
const ASSETS: AssetProjectMap = new Map([BERT, TOK].map((a) => [repositoryKey(a.reference), a]));

function result(project: string, image: string, tags: string[]): AssetImageResult {
  const contentTag = `sha256-${'a'.repeat(20)}`;
  return {
    version: 1,
    project,
    image,
    manifestDigest: MANIFEST,
    configDigest: CONFIG,
    tags: [...tags, contentTag],
    contentTag,
    references: [...tags, contentTag].map((t) => `${image}:${t}`),
    size: 1,
    layers: [],
  };
}
const RESULTS = new Map([
  ['bert', result('bert', 'localhost:5000/asset/bert', ['0.1', 'latest'])],
  ['tok', result('tok', 'asset/tok', ['1'])],
]);

function uses(text: string, buildArgs?: Record<string, string>) {
  return findAssetUses(parseDockerfile(applyBuildArgs(text, buildArgs), 'apps/x/Dockerfile'), ASSETS, 'apps/x');
}

describe('applyBuildArgs', () => {
  it.each([
    ['no build args', 'ARG A=1\nFROM busybox\n', {}, 'ARG A=1\nFROM busybox\n'],
    ['replaces a global default', 'ARG A=1\nFROM busybox\n', { A: '2' }, "ARG A='2'\nFROM busybox\n"],
    ['gives a value to ARG without default', 'ARG A\nFROM busybox\n', { A: 'x' }, "ARG A='x'\nFROM busybox\n"],
    ['only the named one of several', 'ARG A=1 B=2\nFROM busybox\n', { B: '3' }, "ARG A=1 B='3'\nFROM busybox\n"],
    ['a quoted default with spaces', 'ARG A="x y" B=2\n', { A: 'z' }, "ARG A='z' B=2\n"],
    ['stage ARGs too', 'FROM busybox\nARG A=1\n', { A: '2' }, "FROM busybox\nARG A='2'\n"],
    ['undeclared names have no effect', 'ARG A=1\n', { Z: '2' }, 'ARG A=1\n'],
    ['line continuation keeps line count', 'ARG A=1 \\\n  B=2\nFROM x\n', { B: '5' }, "ARG A=1 \\\n  B='5'\nFROM x\n"],
  ])('%s', (_name, text, args, expected) => {
    expect(applyBuildArgs(text, args)).toBe(expected);
  });

  it.each([['plain'], ['a"b'], ['$HOME'], ['back\\slash'], ['sp ace'], ["it's $x"]])('a value survives quoting: %s', (value) => {
    const parsed = parseDockerfile(`ARG V=${quoteArgValue(value)}\nFROM busybox\n`, 'D');
    expect(parsed.globalArgs[0]!.value).toBe(value);
  });
});

describe('findAssetUses + requiredReferencesByAsset', () => {
  const select = (text: string, buildArgs?: Record<string, string>) =>
    Object.fromEntries(requiredReferencesByAsset(uses(text, buildArgs), RESULTS, 'apps/x/Dockerfile'));

  it.each<[string, string, Record<string, string> | undefined, Record<string, string[]>]>([
    [
      'direct COPY --from',
      'FROM busybox\nCOPY --from=localhost:5000/asset/bert:0.1 / /a/\n',
      undefined,
      { bert: ['localhost:5000/asset/bert:0.1'] },
    ],
    [
      'no tag means latest',
      'FROM busybox\nCOPY --from=localhost:5000/asset/bert / /a/\n',
      undefined,
      { bert: ['localhost:5000/asset/bert:latest'] },
    ],
    [
      'docker.io normalised to the familiar form',
      'FROM busybox\nCOPY --from=docker.io/asset/tok:1 / /t/\n',
      undefined,
      { tok: ['asset/tok:1'] },
    ],
    [
      'ARG default',
      'ARG BERT=localhost:5000/asset/bert:0.1\nFROM busybox\nARG BERT\nCOPY --from=${BERT} / /a/\n',
      undefined,
      { bert: ['localhost:5000/asset/bert:0.1'] },
    ],
    [
      'build arg over the ARG default',
      'ARG BERT=localhost:5000/asset/bert:0.1\nFROM busybox\nARG BERT\nCOPY --from=${BERT} / /a/\n',
      { BERT: 'asset/tok:1' },
      { tok: ['asset/tok:1'] },
    ],
    [
      'build arg for the tag',
      'FROM busybox\nARG V=9\nCOPY --from=localhost:5000/asset/bert:${V} / /a/\n',
      { V: 'latest' },
      { bert: ['localhost:5000/asset/bert:latest'] },
    ],
    ['a stage named like an asset is no asset', 'FROM busybox AS bert\nFROM busybox\nCOPY --from=bert / /a/\n', undefined, {}],
    [
      'FROM and RUN --mount count',
      'FROM asset/tok:1 AS t\nFROM busybox\nRUN --mount=type=bind,from=localhost:5000/asset/bert:0.1,target=/m true\n',
      undefined,
      { tok: ['asset/tok:1'], bert: ['localhost:5000/asset/bert:0.1'] },
    ],
    [
      'two uses of one tag give one reference',
      'FROM busybox\nCOPY --from=asset/tok:1 /a /a\nCOPY --from=asset/tok:1 /b /b\n',
      undefined,
      { tok: ['asset/tok:1'] },
    ],
    [
      'COPY with other flags before and after --from',
      'FROM busybox\nCOPY --chown=1000:1000 --link --from=localhost:5000/asset/bert:0.1 / /a/\nCOPY --from=asset/tok:1 --chmod=0444 \\\n  --exclude=*.md / /t/\n',
      undefined,
      { bert: ['localhost:5000/asset/bert:0.1'], tok: ['asset/tok:1'] },
    ],
    ['other images are ignored', 'FROM python:3.12-slim\nCOPY --from=localhost:5000/other:1 / /\n', undefined, {}],
  ])('%s', (_name, text, buildArgs, expected) => {
    expect(select(text, buildArgs)).toEqual(expected);
  });

  it.each([
    [
      'a tag the build does not have',
      'FROM busybox\n\nCOPY --from=localhost:5000/asset/bert:0.0 / /a/\n',
      /apps\/x\/Dockerfile:3: localhost:5000\/asset\/bert:0\.0 uses tag "0\.0".*tags: 0\.1, latest, sha256-a{20}/,
    ],
    [
      'a stale tag in a COPY with --link and --chown',
      'FROM busybox\nCOPY --link --chown=1:1 --from=localhost:5000/asset/bert:0.0 / /a/\n',
      /apps\/x\/Dockerfile:2: localhost:5000\/asset\/bert:0\.0 uses tag "0\.0"/,
    ],
  ])('error: %s', (_name, text, message) => {
    expect(() => select(text)).toThrow(AssetTagMismatchError);
    expect(() => select(text)).toThrow(message);
  });

  it.each<[string, string, Record<string, string[]>, { resolved: string; dockerReference: string; current: boolean }[]]>([
    [
      "the current build's digest: Docker gets it under its content tag",
      `FROM busybox\nCOPY --from=asset/tok@${MANIFEST} / /a/\n`,
      { tok: [`asset/tok:sha256-${'a'.repeat(20)}`] },
      [{ resolved: `asset/tok@${MANIFEST}`, dockerReference: `asset/tok:sha256-${'a'.repeat(20)}`, current: true }],
    ],
    [
      'tag and digest',
      `FROM busybox\nCOPY --from=localhost:5000/asset/bert:0.1@${MANIFEST} / /a/\n`,
      { bert: [`localhost:5000/asset/bert:sha256-${'a'.repeat(20)}`] },
      [
        {
          resolved: `localhost:5000/asset/bert:0.1@${MANIFEST}`,
          dockerReference: `localhost:5000/asset/bert:sha256-${'a'.repeat(20)}`,
          current: true,
        },
      ],
    ],
    [
      'a pin in a COPY with --link and --chown',
      `FROM busybox\nCOPY --link --from=asset/tok@${MANIFEST} --chown=1000:1000 / /a/\n`,
      { tok: [`asset/tok:sha256-${'a'.repeat(20)}`] },
      [{ resolved: `asset/tok@${MANIFEST}`, dockerReference: `asset/tok:sha256-${'a'.repeat(20)}`, current: true }],
    ],
    [
      'another build: not a reference of the current build, a pin of its own',
      `FROM busybox\nCOPY --from=asset/tok@sha256:${'b'.repeat(64)} / /a/\n`,
      {},
      [{ resolved: `asset/tok@sha256:${'b'.repeat(64)}`, dockerReference: `asset/tok:sha256-${'b'.repeat(20)}`, current: false }],
    ],
  ])('digest pins: %s', (_name, text, references, pins) => {
    expect(select(text)).toEqual(references);
    expect(
      digestPinsOf(uses(text), RESULTS).map((p) => ({ resolved: p.use.resolved, dockerReference: p.dockerReference, current: p.current })),
    ).toEqual(pins);
  });

  it('rewrites pinned references in the Dockerfile and in build args, longest first', () => {
    const text = `ARG T=asset/tok@${MANIFEST}\nFROM busybox\nARG T\nCOPY --from=\${T} / /a/\nCOPY --from=localhost:5000/asset/bert:0.1@${MANIFEST} / /b/\n`;
    const buildArgs = { T: `asset/tok@${MANIFEST}`, OTHER: 'x' };
    const pins = digestPinsOf(uses(text, buildArgs), RESULTS);
    const rewritten = rewriteDigestPins(applyBuildArgs(text, buildArgs), buildArgs, pins);
    const tag = `sha256-${'a'.repeat(20)}`;
    expect(rewritten.buildArgs).toEqual({ T: `asset/tok:${tag}`, OTHER: 'x' });
    expect(rewritten.text).toContain(`COPY --from=localhost:5000/asset/bert:${tag} / /b/`);
    expect(rewritten.text).toContain(`ARG T='asset/tok:${tag}'`);
    expect(rewritten.text).not.toContain('@sha256:');
    // Line numbers do not move.
    expect(rewritten.text.split('\n')).toHaveLength(text.split('\n').length);
  });

  it("leaves out an asset in the app's own folder", () => {
    const own = findAssetUses(parseDockerfile('FROM busybox\nCOPY --from=asset/tok:1 / /\n', 'D'), ASSETS, 'assets/tok');
    expect(own).toEqual([]);
  });
});

describe('dockerPresence', () => {
  it.each<[string | undefined, string]>([
    [undefined, 'missing'],
    ['', 'missing'],
    [CONFIG, 'present'],
    [MANIFEST, 'present'],
    [`sha256:${'0'.repeat(64)}`, 'stale'],
  ])('%s -> %s', (id, expected) => {
    expect(dockerPresence(id, { configDigest: CONFIG, manifestDigest: MANIFEST })).toBe(expected);
  });
});

describe('dockerBuildArgv', () => {
  const base: DockerBuildOptions = { dockerfile: 'apps/x/Dockerfile', context: 'apps/x' };
  it.each<
    [
      string,
      Partial<DockerBuildOptions>,
      { buildx?: boolean; buildContexts?: Record<string, string>; exportCompression?: string },
      string[],
    ]
  >([
    ['defaults', {}, {}, ['build', '-f', 'apps/x/Dockerfile', '-t', 'x:latest', '--pull=false', 'apps/x']],
    [
      'every option',
      {
        buildArgs: { A: '1', B: 'two words' },
        target: 'prod',
        platform: 'linux/amd64',
        network: 'host',
        pull: true,
        noCache: true,
        extraArgs: ['--label', 'k=v'],
      },
      {},
      [
        'build',
        '-f',
        'apps/x/Dockerfile',
        '-t',
        'x:latest',
        '--build-arg',
        'A=1',
        '--build-arg',
        'B=two words',
        '--target',
        'prod',
        '--platform',
        'linux/amd64',
        '--network=host',
        '--pull=true',
        '--no-cache',
        '--label',
        'k=v',
        'apps/x',
      ],
    ],
    [
      'buildx with contexts loads by default',
      { network: 'none' },
      { buildx: true, buildContexts: { 'asset/tok:1': 'oci-layout:///s/oci@sha256:x' } },
      [
        'buildx',
        'build',
        '-f',
        'apps/x/Dockerfile',
        '-t',
        'x:latest',
        '--network=none',
        '--pull=false',
        '--build-context',
        'asset/tok:1=oci-layout:///s/oci@sha256:x',
        '--load',
        'apps/x',
      ],
    ],
    [
      'buildx with an export compression: an explicit docker output instead of --load',
      {},
      { buildx: true, exportCompression: 'uncompressed' },
      [
        'buildx',
        'build',
        '-f',
        'apps/x/Dockerfile',
        '-t',
        'x:latest',
        '--pull=false',
        '--output',
        'type=docker,compression=uncompressed',
        'apps/x',
      ],
    ],
    [
      "the user's own output in extraArgs wins",
      { extraArgs: ['--output=type=registry'] },
      { buildx: true, exportCompression: 'uncompressed' },
      ['buildx', 'build', '-f', 'apps/x/Dockerfile', '-t', 'x:latest', '--pull=false', '--output=type=registry', 'apps/x'],
    ],
    [
      "the user's -o (a separate value) in extraArgs wins",
      { extraArgs: ['-o', 'type=local,dest=out'] },
      { buildx: true, exportCompression: 'uncompressed' },
      ['buildx', 'build', '-f', 'apps/x/Dockerfile', '-t', 'x:latest', '--pull=false', '-o', 'type=local,dest=out', 'apps/x'],
    ],
    [
      "the user's --push in extraArgs wins",
      { extraArgs: ['--push'] },
      { buildx: true },
      ['buildx', 'build', '-f', 'apps/x/Dockerfile', '-t', 'x:latest', '--pull=false', '--push', 'apps/x'],
    ],
    [
      'export compression is ignored without buildx',
      {},
      { exportCompression: 'zstd' },
      ['build', '-f', 'apps/x/Dockerfile', '-t', 'x:latest', '--pull=false', 'apps/x'],
    ],
    [
      'buildx without load',
      { load: false },
      { buildx: true },
      ['buildx', 'build', '-f', 'apps/x/Dockerfile', '-t', 'x:latest', '--pull=false', 'apps/x'],
    ],
    [
      'load is ignored without buildx',
      { load: true },
      {},
      ['build', '-f', 'apps/x/Dockerfile', '-t', 'x:latest', '--pull=false', 'apps/x'],
    ],
  ])('%s', (_name, options, invocation, expected) => {
    const opts = { ...base, ...options };
    expect(dockerBuildArgv(opts, { buildx: false, tags: defaultTags(opts, 'x'), ...invocation })).toEqual(expected);
  });

  it.each<[string[] | undefined, string | undefined, string[]]>([
    [undefined, 'api', ['api:latest']],
    [[], 'My_App', ['my_app:latest']],
    [undefined, '@scope/app', ['scope/app:latest']],
    [['a:1', 'b'], 'api', ['a:1', 'b']],
  ])('tags %j for project %s -> %j', (tags, project, expected) => {
    expect(defaultTags({ ...base, ...(tags ? { tags } : {}) }, project)).toEqual(expected);
  });
});

describe('exportCompressionOf', () => {
  it.each<[DockerBuildOptions['exportCompression'], 'classic' | 'containerd' | undefined, string | undefined]>([
    [undefined, 'containerd', 'uncompressed'],
    [undefined, 'classic', undefined],
    [undefined, undefined, undefined],
    ['zstd', 'containerd', 'zstd'],
    ['gzip', 'classic', 'gzip'],
    ['default', 'containerd', undefined],
  ])('option %s on the %s store -> %s', (option, store, expected) => {
    expect(exportCompressionOf(option ? { exportCompression: option } : {}, store)).toBe(expected);
  });
});

describe('buildxDecision', () => {
  it.each<[boolean | undefined, boolean, 'classic' | 'containerd', boolean, boolean]>([
    // option, buildx installed, image store -> buildx, warned
    [undefined, true, 'containerd', true, false],
    [undefined, true, 'classic', false, false],
    [undefined, false, 'containerd', false, false],
    [true, true, 'classic', true, false],
    [true, false, 'containerd', false, true],
    [false, true, 'containerd', false, false],
  ])('useBuildx %s, installed %s, %s store -> buildx %s (warning: %s)', (option, buildxInstalled, store, buildx, warned) => {
    const decision = buildxDecision(option, { buildxInstalled, store });
    expect(decision.buildx).toBe(buildx);
    expect(decision.warning !== undefined).toBe(warned);
  });

  it.each<[string | undefined, boolean]>([
    ['0', true],
    ['false', true],
    ['FALSE', true],
    ['1', false],
    ['true', false],
    ['', false],
    [undefined, false],
  ])('DOCKER_BUILDKIT=%s asks for the legacy builder: %s', (value, expected) => {
    expect(legacyBuilderAsked(value === undefined ? {} : { DOCKER_BUILDKIT: value })).toBe(expected);
  });

  it.each<[boolean | undefined, boolean]>([
    [undefined, false],
    [true, true],
  ])('DOCKER_BUILDKIT=0 (the legacy builder asked for), useBuildx %s -> buildx %s', (option, buildx) => {
    expect(buildxDecision(option, { buildxInstalled: true, store: 'containerd', legacyBuilder: true }).buildx).toBe(buildx);
  });
});

describe('layoutBuildContextMap', () => {
  it('names a digest-pinned use as written, at the digest it pins', () => {
    const older = `sha256:${'e'.repeat(64)}`;
    const u = uses(`FROM busybox\nCOPY --from=asset/tok@${older} / /t/\nCOPY --from=asset/tok:1@${MANIFEST} / /c/\n`);
    expect(layoutBuildContextMap(u, RESULTS, '/s/oci')).toEqual({
      [`asset/tok@${older}`]: `oci-layout:///s/oci@${older}`,
      [`asset/tok:1@${MANIFEST}`]: `oci-layout:///s/oci@${MANIFEST}`,
    });
  });

  it('names the context of a COPY with other flags beside --from', () => {
    const u = uses('FROM busybox\nCOPY --link --chown=1000:1000 --from=asset/tok:1 --chmod=0444 / /t/\n');
    expect(layoutBuildContextMap(u, RESULTS, '/s/oci')).toEqual({ 'asset/tok:1': `oci-layout:///s/oci@${MANIFEST}` });
  });

  it("names each context as the Dockerfile resolves it, at the build's manifest digest", () => {
    const u = uses('ARG T=asset/tok:1\nFROM busybox\nARG T\nCOPY --from=$T / /t/\nCOPY --from=localhost:5000/asset/bert:0.1 / /b/\n');
    expect(layoutBuildContextMap(u, RESULTS, '/ws/.asset-images/oci')).toEqual({
      'asset/tok:1': `oci-layout:///ws/.asset-images/oci@${MANIFEST}`,
      'localhost:5000/asset/bert:0.1': `oci-layout:///ws/.asset-images/oci@${MANIFEST}`,
    });
  });
});
