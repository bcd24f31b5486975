import { describe, expect, it } from 'vitest';
import { addCopyFrom, DockerfileWithoutFromError, newDockerfile, type AddCopyFromRequest } from './add-copy-from';

const LINE = 'COPY --from=registry.example.com/asset/bert:0.1 / /assets/bert';
const request = (text: string, extra: Partial<AddCopyFromRequest> = {}): AddCopyFromRequest => ({
  text,
  fileName: 'apps/api/Dockerfile',
  image: 'registry.example.com/asset/bert',
  tag: '0.1',
  source: '/',
  destination: '/assets/bert',
  assetRepositoryKeys: new Set(['registry.example.com/asset/bert', 'registry.example.com/asset/tokenizer', 'docker.io/asset/t5']),
  ...extra,
});

describe('addCopyFrom', () => {
  it.each<[string, string, string]>([
    ['right after the only FROM', 'FROM python:3.12\nRUN pip install x\n', `FROM python:3.12\n${LINE}\nRUN pip install x\n`],
    [
      'in the final stage, after the last FROM',
      'FROM node:20 AS build\nRUN make\nFROM python:3.12 AS final\nCOPY --from=build /out /app\n',
      `FROM node:20 AS build\nRUN make\nFROM python:3.12 AS final\n${LINE}\nCOPY --from=build /out /app\n`,
    ],
    [
      'after the COPY --from lines of other assets (not after stage copies)',
      'FROM python:3.12\nCOPY --from=registry.example.com/asset/tokenizer:1 / /assets/tok\nCOPY --from=asset/t5 / /assets/t5\nCOPY --from=node:20 /usr/bin/node /usr/bin/\nRUN x\n',
      `FROM python:3.12\nCOPY --from=registry.example.com/asset/tokenizer:1 / /assets/tok\nCOPY --from=asset/t5 / /assets/t5\n${LINE}\nCOPY --from=node:20 /usr/bin/node /usr/bin/\nRUN x\n`,
    ],
    ['keeping CRLF line endings', 'FROM python:3.12\r\nRUN x\r\n', `FROM python:3.12\r\n${LINE}\r\nRUN x\r\n`],
    ['at the end of a file without a final newline', 'FROM python:3.12', `FROM python:3.12\n${LINE}\n`],
    [
      'after a FROM continued over two lines, with its indentation',
      'ARG BASE=python:3.12\n  FROM \\\n  ${BASE}\nRUN x\n',
      `ARG BASE=python:3.12\n  FROM \\\n  \${BASE}\n  ${LINE}\nRUN x\n`,
    ],
    [
      'after an asset COPY continued over two lines',
      'FROM python:3.12\nCOPY --from=registry.example.com/asset/tokenizer:1 \\\n  / /assets/tok\nRUN x\n',
      `FROM python:3.12\nCOPY --from=registry.example.com/asset/tokenizer:1 \\\n  / /assets/tok\n${LINE}\nRUN x\n`,
    ],
    [
      'after an asset COPY with other flags beside --from',
      'FROM python:3.12\nCOPY --link --chown=1:1 --from=registry.example.com/asset/tokenizer:1 --chmod=0444 / /assets/tok\nRUN x\n',
      `FROM python:3.12\nCOPY --link --chown=1:1 --from=registry.example.com/asset/tokenizer:1 --chmod=0444 / /assets/tok\n${LINE}\nRUN x\n`,
    ],
  ])('adds the line %s', (_label, text, expected) => {
    const result = addCopyFrom(request(text));
    expect(result).toMatchObject({ status: 'added', instruction: LINE });
    expect(result.status === 'added' && result.text).toBe(expected);
  });

  it('copies from the asset destination', () => {
    const result = addCopyFrom(request('FROM x\n', { source: '/models/bert', destination: '/srv/bert' }));
    expect(result.status === 'added' && result.text).toBe(
      'FROM x\nCOPY --from=registry.example.com/asset/bert:0.1 /models/bert /srv/bert\n',
    );
  });

  it.each<[string, string, boolean]>([
    ['the same line', `FROM python:3.12\n${LINE}\n`, true],
    ['another tag', 'FROM python:3.12\nCOPY --from=registry.example.com/asset/bert:0.2 / /models\n', false],
    ['a digest', `FROM python:3.12\nCOPY --from=registry.example.com/asset/bert@sha256:${'a'.repeat(64)} / /models\n`, false],
    ['an ARG default', 'ARG BERT=registry.example.com/asset/bert:0.1\nFROM python:3.12\nARG BERT\nCOPY --from=${BERT} / /m\n', true],
    [
      'a COPY with --link and --chown before --from',
      'FROM python:3.12\nCOPY --link --chown=1000:1000 --from=registry.example.com/asset/bert:0.1 / /m\n',
      true,
    ],
    ['a COPY with --chmod after --from', 'FROM python:3.12\nCOPY --from=registry.example.com/asset/bert:0.2 --chmod=0444 / /m\n', false],
    [
      'an earlier stage',
      'FROM busybox AS assets\nCOPY --from=registry.example.com/asset/bert:0.1 / /m\nFROM python:3.12\nCOPY --from=assets /m /m\n',
      true,
    ],
  ])('reports an existing COPY --from of the asset image (%s) and changes nothing', (_label, text, sameTag) => {
    const result = addCopyFrom(request(text));
    expect(result).toMatchObject({ status: 'present', sameTag });
  });

  it('matches the image with registry defaults normalised', () => {
    const result = addCopyFrom(request('FROM x\nCOPY --from=docker.io/library/bert:0.1 / /m\n', { image: 'bert' }));
    expect(result).toEqual({ status: 'present', line: 2, existing: 'docker.io/library/bert:0.1', sameTag: true });
  });

  it('refuses a Dockerfile without FROM, naming it', () => {
    expect(() => addCopyFrom(request('RUN x\n'))).toThrow(DockerfileWithoutFromError);
    expect(() => addCopyFrom(request(''))).toThrow('apps/api/Dockerfile has no FROM instruction');
  });
});

describe('newDockerfile', () => {
  it('takes the base image from a build argument', () => {
    expect(newDockerfile(LINE)).toBe(
      `# The runtime of the app: change the default, or pass --build-arg BASE_IMAGE\nARG BASE_IMAGE=python:3.12-slim\nFROM \${BASE_IMAGE}\n${LINE}\n`,
    );
  });
});
