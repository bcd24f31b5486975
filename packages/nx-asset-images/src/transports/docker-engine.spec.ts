import { describe, expect, it } from 'vitest';
import { defaultDockerPlatform, imageStoreOf, parseEngineLine } from './docker-engine';

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

  it.each([
    // Docker 26 with "containerd-snapshotter": true
    ['[["driver-type","io.containerd.snapshotter.v1"]]', 'containerd'],
    // Docker 20.10, overlay2
    ['[["Backing Filesystem","extfs"],["Supports d_type","true"],["Native Overlay Diff","true"],["userxattr","false"]]', 'classic'],
    ['null', 'classic'],
  ])('imageStoreOf(%s)', (status, expected) => {
    expect(imageStoreOf(status)).toBe(expected);
  });
});
