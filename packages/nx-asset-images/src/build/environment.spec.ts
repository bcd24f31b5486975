import { describe, expect, it } from 'vitest';
import { isCI, parsePlatform, sourceDateEpoch } from './environment';

describe('environment', () => {
  it.each([
    [{}, false],
    [{ CI: '' }, false],
    [{ CI: 'false' }, false],
    [{ CI: '0' }, false],
    [{ CI: 'true' }, true],
    [{ CI: '1' }, true],
  ])('isCI(%j) is %s', (env, expected) => {
    expect(isCI(env)).toBe(expected);
  });

  it.each([
    [{}, 0],
    [{ SOURCE_DATE_EPOCH: '1700000000' }, 1700000000],
  ])('sourceDateEpoch(%j) is %d', (env, expected) => {
    expect(sourceDateEpoch(env)).toBe(expected);
  });

  it.each(['-1', '1.5', 'yesterday'])('rejects SOURCE_DATE_EPOCH=%s naming the variable', (value) => {
    expect(() => sourceDateEpoch({ SOURCE_DATE_EPOCH: value })).toThrow(/SOURCE_DATE_EPOCH must be a whole number of seconds/);
  });

  it.each([
    ['linux/amd64', { os: 'linux', architecture: 'amd64' }],
    ['linux/arm64/v8', { os: 'linux', architecture: 'arm64', variant: 'v8' }],
  ])('parses platform %s', (value, expected) => {
    expect(parsePlatform(value)).toEqual(expected);
  });

  it.each(['linux', 'linux/', 'Linux/AMD64', 'a/b/c/d'])('rejects platform %s', (value) => {
    expect(() => parsePlatform(value)).toThrow(/platform: expected/);
  });
});
