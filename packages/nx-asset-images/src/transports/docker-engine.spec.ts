import { describe, expect, it } from 'vitest';
import { defaultDockerPlatform, parseEngineLine } from './docker-engine';

describe('docker engine', () => {
  it.each([
    ['20.10.24+dfsg1 linux/amd64', { version: '20.10.24+dfsg1', platform: 'linux/amd64' }],
    ['26.1.5 linux/arm64\n', { version: '26.1.5', platform: 'linux/arm64' }],
    ['', undefined],
    // A CLI without a server answers with an empty server part.
    [' /', undefined],
    ['26.1.5', undefined],
  ])('parseEngineLine(%j)', (line, expected) => {
    expect(parseEngineLine(line)).toEqual(expected);
  });

  it.each([
    [{}, 'linux/amd64'],
    [{ DOCKER_DEFAULT_PLATFORM: 'linux/arm64' }, 'linux/arm64'],
    [{ DOCKER_DEFAULT_PLATFORM: '  ' }, 'linux/amd64'],
  ])('defaultDockerPlatform with %j', (env, expected) => {
    expect(defaultDockerPlatform({ version: '26.1.5', platform: 'linux/amd64' }, env)).toBe(expected);
  });
});
