import { describe, it, expect } from 'vitest';
import {
  familiarImageReference,
  formatImageReference,
  InvalidImageReferenceError,
  parseImageReference,
  repositoryKey,
  tryParseImageReference,
  withDigest,
  withoutTagOrDigest,
  withTag,
  type ImageReference,
} from './image-reference';
import type { Digest } from './image';

const HEX = 'a'.repeat(64);
const DIGEST = `sha256:${HEX}` as Digest;

describe('parseImageReference', () => {
  it.each<[string, ImageReference]>([
    ['node', { registry: 'docker.io', repository: 'library/node' }],
    ['node:20', { registry: 'docker.io', repository: 'library/node', tag: '20' }],
    ['node:20-alpine3.19', { registry: 'docker.io', repository: 'library/node', tag: '20-alpine3.19' }],
    ['library/node:20', { registry: 'docker.io', repository: 'library/node', tag: '20' }],
    ['docker.io/node', { registry: 'docker.io', repository: 'library/node' }],
    ['docker.io/library/node', { registry: 'docker.io', repository: 'library/node' }],
    ['index.docker.io/node:lts', { registry: 'docker.io', repository: 'library/node', tag: 'lts' }],
    ['index.docker.io/bitnami/redis', { registry: 'docker.io', repository: 'bitnami/redis' }],
    ['asset/models-bert', { registry: 'docker.io', repository: 'asset/models-bert' }],
    ['asset/models-bert:0.1', { registry: 'docker.io', repository: 'asset/models-bert', tag: '0.1' }],
    ['localhost/asset/bert', { registry: 'localhost', repository: 'asset/bert' }],
    ['localhost:5000/asset/bert:1', { registry: 'localhost:5000', repository: 'asset/bert', tag: '1' }],
    ['localhost:5000/bert', { registry: 'localhost:5000', repository: 'bert' }],
    ['127.0.0.1:5000/a/b/c:x', { registry: '127.0.0.1:5000', repository: 'a/b/c', tag: 'x' }],
    ['registry.example.com/asset/models-bert', { registry: 'registry.example.com', repository: 'asset/models-bert' }],
    ['ghcr.io/org/team/app:v1.2.3', { registry: 'ghcr.io', repository: 'org/team/app', tag: 'v1.2.3' }],
    ['Registry.Example.com/x', { registry: 'Registry.Example.com', repository: 'x' }],
    ['MYHOST/x', { registry: 'MYHOST', repository: 'x' }],
    ['myhost:443/x', { registry: 'myhost:443', repository: 'x' }],
    ['[::1]:5000/x', { registry: '[::1]:5000', repository: 'x' }],
    ['my-registry/x', { registry: 'docker.io', repository: 'my-registry/x' }],
    ['a_b/c__d/e--f/g.h', { registry: 'docker.io', repository: 'a_b/c__d/e--f/g.h' }],
    [`node@${DIGEST}`, { registry: 'docker.io', repository: 'library/node', digest: DIGEST }],
    [`node:20@${DIGEST}`, { registry: 'docker.io', repository: 'library/node', tag: '20', digest: DIGEST }],
    [`localhost:5000/x@${DIGEST}`, { registry: 'localhost:5000', repository: 'x', digest: DIGEST }],
    ['x:_tag', { registry: 'docker.io', repository: 'library/x', tag: '_tag' }],
    [`x:${'t'.repeat(128)}`, { registry: 'docker.io', repository: 'library/x', tag: 't'.repeat(128) }],
  ])('%s', (input, expected) => {
    expect(parseImageReference(input)).toEqual(expected);
  });

  it.each<[string, RegExp]>([
    ['', /empty reference/],
    [' node', /whitespace/],
    ['no de', /whitespace/],
    ['Node', /lowercase/],
    ['library/Node', /lowercase/],
    ['docker.io/Asset/x', /lowercase/],
    [':tag', /missing repository/],
    ['node:', /empty tag/],
    ['localhost:5000/x:', /empty tag/],
    ['node:-bad', /malformed tag/],
    ['node:.bad', /malformed tag/],
    ['node:a/b', /empty path component|malformed/],
    [`node:${'t'.repeat(129)}`, /malformed tag/],
    ['node@', /empty digest/],
    ['node@sha256:abc', /malformed digest/],
    [`node@sha256:${'A'.repeat(64)}`, /malformed digest/],
    [`node@sha512:${'a'.repeat(128)}`, /unsupported digest/],
    ['node@latest', /malformed digest/],
    ['a//b', /empty path component/],
    ['a/', /empty path component/],
    ['/a', /empty path component/],
    ['localhost:5000/', /missing repository/],
    ['a/b/', /empty path component/],
    ['-a/b', /malformed path component/],
    ['a-/b', /malformed path component/],
    ['a/b_', /malformed path component/],
    ['a/b___c', /malformed path component/],
    ['a/b..c', /malformed path component/],
    ['bad_host.com/x', /malformed registry/],
    ['-host.com/x', /malformed registry/],
    ['host.com:port/x', /malformed registry/],
    [HEX, /image ID/],
    ['n'.repeat(256), /longer than 255/],
  ])('rejects %j', (input, reason) => {
    let caught: unknown;
    try {
      parseImageReference(input);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InvalidImageReferenceError);
    const error = caught as InvalidImageReferenceError;
    expect(error.input).toBe(input);
    expect(error.reason).toMatch(reason);
    expect(error.message).toContain(JSON.stringify(input));
  });
});

describe('tryParseImageReference', () => {
  it('returns undefined for bad input and the reference otherwise', () => {
    expect(tryParseImageReference('UPPER')).toBeUndefined();
    expect(tryParseImageReference('node')).toEqual({ registry: 'docker.io', repository: 'library/node' });
  });
});

describe('formatting', () => {
  it.each<[string, string, string]>([
    ['node', 'docker.io/library/node', 'node'],
    ['node:20', 'docker.io/library/node:20', 'node:20'],
    ['asset/bert:0.1', 'docker.io/asset/bert:0.1', 'asset/bert:0.1'],
    ['library/a/b', 'docker.io/library/a/b', 'library/a/b'],
    ['localhost:5000/x:1', 'localhost:5000/x:1', 'localhost:5000/x:1'],
    [`ghcr.io/o/r@${DIGEST}`, `ghcr.io/o/r@${DIGEST}`, `ghcr.io/o/r@${DIGEST}`],
  ])('%s', (input, full, familiar) => {
    const ref = parseImageReference(input);
    expect(formatImageReference(ref)).toBe(full);
    expect(familiarImageReference(ref)).toBe(familiar);
    expect(parseImageReference(formatImageReference(ref))).toEqual(ref);
    expect(parseImageReference(familiarImageReference(ref))).toEqual(ref);
  });
});

describe('repositoryKey', () => {
  it.each<[string, string]>([
    ['node', 'node:20'],
    ['docker.io/library/node', `index.docker.io/node@${DIGEST}`],
    ['asset/bert', 'docker.io/asset/bert:0.1'],
    ['Localhost:5000/x', 'localhost:5000/x:latest'],
  ])('%s matches %s', (a, b) => {
    expect(repositoryKey(parseImageReference(a))).toBe(repositoryKey(parseImageReference(b)));
  });

  it.each<[string, string]>([
    ['asset/bert', 'localhost:5000/asset/bert'],
    ['localhost:5000/x', 'localhost:5001/x'],
    ['node', 'nodejs/node'],
  ])('%s does not match %s', (a, b) => {
    expect(repositoryKey(parseImageReference(a))).not.toBe(repositoryKey(parseImageReference(b)));
  });

  it('is registry/repository', () => {
    expect(repositoryKey(parseImageReference('node:20'))).toBe('docker.io/library/node');
  });
});

describe('withTag / withDigest / withoutTagOrDigest', () => {
  const base = parseImageReference('localhost:5000/asset/bert:old');
  it('replaces the tag and keeps the rest', () => {
    expect(withTag(base, 'new')).toEqual({ registry: 'localhost:5000', repository: 'asset/bert', tag: 'new' });
    expect(base.tag).toBe('old');
  });
  it('adds a digest', () => {
    expect(withDigest(base, DIGEST)).toEqual({ registry: 'localhost:5000', repository: 'asset/bert', tag: 'old', digest: DIGEST });
  });
  it('drops tag and digest', () => {
    expect(withoutTagOrDigest(withDigest(base, DIGEST))).toEqual({ registry: 'localhost:5000', repository: 'asset/bert' });
  });
  it('validates', () => {
    expect(() => withTag(base, '-x')).toThrow(InvalidImageReferenceError);
    expect(() => withDigest(base, 'sha256:12' as Digest)).toThrow(InvalidImageReferenceError);
  });
});
