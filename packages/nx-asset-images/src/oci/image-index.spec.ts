import { describe, expect, it } from 'vitest';
import { bytesLayer } from './bytes-layer';
import { assembleImageIndex, selectPlatformImage } from './image-index';
import { platformKey, type Platform } from './platform';
import { sha256Digest } from './digest';

const layers = [bytesLayer(Buffer.from('weights')), bytesLayer(Buffer.from('config'))];
const AMD64: Platform = { os: 'linux', architecture: 'amd64' };
const ARM64: Platform = { os: 'linux', architecture: 'arm64' };

describe('assembleImageIndex', () => {
  it('one manifest per platform over the same layers; only the configs differ', () => {
    const { index, images } = assembleImageIndex({ layers, platforms: [AMD64, ARM64] });
    expect(images.map((i) => platformKey(i.platform))).toEqual(['linux/amd64', 'linux/arm64']);
    const [amd, arm] = images.map((i) => JSON.parse(i.image.manifest.bytes.toString('utf8')));
    expect(amd.layers).toEqual(arm.layers);
    expect(amd.config.digest).not.toBe(arm.config.digest);
    expect(JSON.parse(images[1]!.image.config.bytes.toString('utf8')).architecture).toBe('arm64');
    const parsed = JSON.parse(index.bytes.toString('utf8'));
    expect(parsed.mediaType).toBe('application/vnd.oci.image.index.v1+json');
    expect(parsed.manifests.map((m: { digest: string; platform: Platform }) => [m.digest, m.platform])).toEqual([
      [images[0]!.image.manifest.descriptor.digest, AMD64],
      [images[1]!.image.manifest.descriptor.digest, ARM64],
    ]);
    expect(index.descriptor.digest).toBe(sha256Digest(index.bytes));
  });

  it('is reproducible: the same inputs give the same index digest, another platform order another one', () => {
    const a = assembleImageIndex({ layers, platforms: [AMD64, ARM64] }).index.descriptor.digest;
    expect(assembleImageIndex({ layers, platforms: [AMD64, ARM64] }).index.descriptor.digest).toBe(a);
    expect(assembleImageIndex({ layers, platforms: [ARM64, AMD64] }).index.descriptor.digest).not.toBe(a);
  });

  it.each<[string, Platform[]]>([
    ['no platform', []],
    ['a platform twice', [AMD64, AMD64]],
    ['arm64 and arm64/v8, which are one', [ARM64, { ...ARM64, variant: 'v8' }]],
  ])('refuses %s', (_name, platforms) => {
    expect(() => assembleImageIndex({ layers, platforms })).toThrow(/assembleImageIndex/);
  });
});

describe('selectPlatformImage', () => {
  const index = assembleImageIndex({ layers, platforms: [AMD64, ARM64, { os: 'linux', architecture: 'arm', variant: 'v7' }] });
  it.each<[Platform, string | undefined]>([
    [AMD64, 'linux/amd64'],
    [ARM64, 'linux/arm64'],
    [{ ...ARM64, variant: 'v8' }, 'linux/arm64'],
    [{ os: 'linux', architecture: 'arm' }, 'linux/arm/v7'],
    [{ os: 'linux', architecture: 'arm', variant: 'v6' }, undefined],
    [{ os: 'windows', architecture: 'amd64' }, undefined],
  ])('%j -> %s', (wanted, expected) => {
    const found = selectPlatformImage(index, wanted);
    expect(found ? platformKey(found.platform) : undefined).toBe(expected);
  });
});
