import { describe, expect, it } from 'vitest';
import { buildEnvironment, isCI, sourceDateEpoch, targetPlatforms } from './environment';

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

  const amd64 = { os: 'linux', architecture: 'amd64' };
  const arm64 = { os: 'linux', architecture: 'arm64' };
  it.each([
    ['unset', undefined, [amd64, arm64]],
    ['empty', [], [amd64, arm64]],
    ['not a list of strings', [1, 2], [amd64, arm64]],
    ['one', ['linux/arm64'], [arm64]],
    ['in the given order', ['linux/arm64', 'linux/amd64'], [arm64, amd64]],
    ['with a variant', ['linux/arm/v7'], [{ os: 'linux', architecture: 'arm', variant: 'v7' }]],
  ])('targetPlatforms: %s', (_, value, expected) => {
    expect(targetPlatforms(value)).toEqual(expected);
  });

  it.each([
    [['linux/amd64', 'linux'], /platforms\[1\]: expected/],
    [['linux/amd64', 'linux/amd64'], /platforms\[1\]: each platform once \(linux\/amd64 is listed twice\)/],
    [['linux/arm64', 'linux/arm64/v8'], /platforms\[1\]: each platform once/],
  ])('targetPlatforms rejects %j naming the entry', (value, pattern) => {
    expect(() => targetPlatforms(value)).toThrow(pattern);
  });

  it('buildEnvironment: `platform` is the variant for Docker, unset by default', () => {
    expect(buildEnvironment({}, {}).dockerPlatform).toBeUndefined();
    expect(buildEnvironment({ platform: 'linux/arm64' }, {})).toMatchObject({ dockerPlatform: arm64, platforms: [amd64, arm64] });
  });
});
