import { describe, expect, it } from 'vitest';
import { contentKeyEnvName, inheritedKeyNames } from './key-env';

describe('contentKeyEnvName', () => {
  it.each([
    ['assets/bert', 'assets/bert-base'],
    ['assets/a-b', 'assets/a_b'],
    ['a.b', 'a/b'],
  ])('%s and %s get distinct names a POSIX shell keeps', (a, b) => {
    expect(contentKeyEnvName(a)).toMatch(/^NX_ASSET_IMAGES_KEY_[0-9a-f]{16}$/);
    expect(contentKeyEnvName(a)).not.toBe(contentKeyEnvName(b));
    expect(contentKeyEnvName(a)).toBe(contentKeyEnvName(a));
  });
});

describe('inheritedKeyNames', () => {
  it.each<[string, NodeJS.ProcessEnv, string[]]>([
    ['none', { PATH: '/bin' }, []],
    ['one with a value', { NX_ASSET_IMAGES_KEY_0123456789abcdef: 'line', PATH: '/bin' }, ['NX_ASSET_IMAGES_KEY_0123456789abcdef']],
    ['an empty one is already harmless', { NX_ASSET_IMAGES_KEY_0123456789abcdef: '' }, []],
    ['other plugin variables are not keys', { NX_ASSET_IMAGES_STORE: '/s', NX_ASSET_IMAGES_CONTENT_INDEX: 'off' }, []],
  ])('%s', (_, env, expected) => {
    expect(inheritedKeyNames(env)).toEqual(expected);
  });
});
