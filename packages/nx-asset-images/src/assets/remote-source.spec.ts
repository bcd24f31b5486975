import { describe, expect, it } from 'vitest';
import { RemoteSourceError, normalizeSha256, parseRemoteSource, parseRemoteSources, redactUrl, urlBasename } from './remote-source';

const HEX = 'ab'.repeat(32);

describe('parseRemoteSource', () => {
  it('accepts a full entry and normalises sha256 and path', () => {
    expect(
      parseRemoteSource(
        { url: 'https://huggingface.co/org/m/resolve/abc/model.safetensors', sha256: `sha256:${HEX.toUpperCase()}`, path: './w/model.safetensors', size: 10 },
        'sources[0]',
      ),
    ).toEqual({ url: 'https://huggingface.co/org/m/resolve/abc/model.safetensors', sha256: HEX, path: 'w/model.safetensors', size: 10 });
  });

  it.each([
    ['not an object', 'x', 'sources[0]'],
    ['missing url', { sha256: HEX, path: 'a' }, 'sources[0].url'],
    ['bad url', { url: 'not a url', sha256: HEX, path: 'a' }, 'sources[0].url'],
    ['ftp url', { url: 'ftp://h/a', sha256: HEX, path: 'a' }, 'sources[0].url'],
    ['credentials in url', { url: 'https://u:p@h/a', sha256: HEX, path: 'a' }, 'sources[0].url'],
    ['short sha256', { url: 'https://h/a', sha256: 'abc', path: 'a' }, 'sources[0].sha256'],
    ['numeric sha256', { url: 'https://h/a', sha256: 12, path: 'a' }, 'sources[0].sha256'],
    ['absolute path', { url: 'https://h/a', sha256: HEX, path: '/a' }, 'sources[0].path'],
    ['escaping path', { url: 'https://h/a', sha256: HEX, path: 'x/../../a' }, 'sources[0].path'],
    ['directory path', { url: 'https://h/a', sha256: HEX, path: 'dir/' }, 'sources[0].path'],
    ['backslash path', { url: 'https://h/a', sha256: HEX, path: 'a\\b' }, 'sources[0].path'],
    ['negative size', { url: 'https://h/a', sha256: HEX, path: 'a', size: -1 }, 'sources[0].size'],
    ['fractional size', { url: 'https://h/a', sha256: HEX, path: 'a', size: 1.5 }, 'sources[0].size'],
    ['unknown field', { url: 'https://h/a', sha256: HEX, path: 'a', token: 'x' }, 'sources[0].token'],
  ])('rejects %s naming the field', (_name, value, field) => {
    let error: unknown;
    try {
      parseRemoteSource(value, 'sources[0]');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(RemoteSourceError);
    expect((error as RemoteSourceError).field).toBe(field);
  });

  it('does not echo credentials of a rejected URL', () => {
    expect(() => parseRemoteSource({ url: 'https://user:hunter2@h/a', sha256: HEX, path: 'a' }, 's')).toThrow(/credentials/);
    try {
      parseRemoteSource({ url: 'https://user:hunter2@h/a', sha256: HEX, path: 'a' }, 's');
    } catch (e) {
      expect((e as Error).message).not.toContain('hunter2');
    }
  });
});

describe('parseRemoteSources', () => {
  it('is empty when absent and rejects non-arrays', () => {
    expect(parseRemoteSources(undefined)).toEqual([]);
    expect(() => parseRemoteSources({})).toThrow(RemoteSourceError);
  });

  it('rejects two entries with the same path', () => {
    const entry = { url: 'https://h/a', sha256: HEX, path: 'a' };
    expect(() => parseRemoteSources([entry, { ...entry, url: 'https://h/b' }])).toThrow(/sources\[1\]\.path: "a" is already used by sources\[0\]/);
  });
});

describe('normalizeSha256', () => {
  it.each([
    [HEX, HEX],
    [`sha256:${HEX}`, HEX],
    [HEX.toUpperCase(), HEX],
    ['xyz', undefined],
    [`${HEX}0`, undefined],
  ])('%s -> %s', (input, expected) => {
    expect(normalizeSha256(input)).toBe(expected);
  });
});

describe('redactUrl', () => {
  it.each([
    ['https://h/a/b.bin', 'https://h/a/b.bin'],
    ['https://user:pw@h/a', 'https://h/a'],
    ['https://h/a?X-Amz-Signature=s3cr3t&X-Amz-Expires=60', 'https://h/a?X-Amz-Signature=REDACTED&X-Amz-Expires=REDACTED'],
    ['https://h/a#frag', 'https://h/a'],
    ['https://user:pw@h/a?token=x#f', 'https://h/a?token=REDACTED'],
    ['not a url?token=x', 'not a url'],
  ])('%s -> %s', (input, expected) => {
    expect(redactUrl(input)).toBe(expected);
  });
});

describe('urlBasename', () => {
  it.each([
    ['https://huggingface.co/org/m/resolve/main/model.safetensors?download=true', 'model.safetensors'],
    ['https://h/dir/with%20space.bin', 'with space.bin'],
    ['https://h/', 'h'],
  ])('%s -> %s', (input, expected) => {
    expect(urlBasename(input)).toBe(expected);
  });
});
