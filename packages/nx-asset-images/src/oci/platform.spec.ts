import { describe, expect, it } from 'vitest';
import { formatPlatform, InvalidPlatformError, parsePlatform, platformKey, tryParsePlatform, type Platform } from './platform';

describe('parsePlatform', () => {
  it.each<[string, Platform]>([
    ['linux/amd64', { os: 'linux', architecture: 'amd64' }],
    ['linux/arm64/v8', { os: 'linux', architecture: 'arm64', variant: 'v8' }],
    ['linux/arm/v7', { os: 'linux', architecture: 'arm', variant: 'v7' }],
    ['windows/amd64', { os: 'windows', architecture: 'amd64' }],
    ['linux/x86_64', { os: 'linux', architecture: 'x86_64' }],
  ])('parses platform %s', (value, expected) => {
    expect(parsePlatform(value)).toEqual(expected);
    expect(tryParsePlatform(value)).toEqual(expected);
    expect(formatPlatform(parsePlatform(value))).toBe(value);
  });

  it.each([
    'linux',
    'linux/',
    'Linux/AMD64',
    'a/b/c/d',
    '',
    '/amd64',
    'linux//v7',
    'linux/amd64/',
    'linux/amd-64',
    ' linux/amd64',
    'linux/amd64\n',
  ])('rejects platform %j', (value) => {
    expect(() => parsePlatform(value)).toThrow(/platform: expected/);
    expect(() => parsePlatform(value)).toThrow(InvalidPlatformError);
    expect(tryParsePlatform(value)).toBeUndefined();
  });

  it('says what it expected and carries the value', () => {
    const error = (() => {
      try {
        parsePlatform('linux');
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toMatchObject({ name: 'InvalidPlatformError', value: 'linux' });
    expect((error as Error).message).toBe('platform: expected os/architecture[/variant] such as linux/amd64, got "linux"');
  });
});

describe('platformKey', () => {
  it.each<[Platform, string]>([
    [{ os: 'linux', architecture: 'amd64' }, 'linux/amd64'],
    [{ os: 'linux', architecture: 'arm64' }, 'linux/arm64'],
    [{ os: 'linux', architecture: 'arm64', variant: 'v8' }, 'linux/arm64'],
    [{ os: 'linux', architecture: 'arm64', variant: 'v9' }, 'linux/arm64/v9'],
    [{ os: 'linux', architecture: 'arm', variant: 'v8' }, 'linux/arm/v8'],
    [{ os: 'linux', architecture: 'arm', variant: 'v7' }, 'linux/arm/v7'],
  ])('%j -> %s', (platform, key) => expect(platformKey(platform)).toBe(key));
});
