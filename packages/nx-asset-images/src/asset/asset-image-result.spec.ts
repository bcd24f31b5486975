import { describe, expect, it } from 'vitest';
import { bytesLayer } from '../oci/bytes-layer';
import { assembleImageIndex } from '../oci/image-index';
import type { AssetAnalysis } from './analyze-asset';
import { assetImageIndexResult, variantOf } from './asset-image-result';
import { assetReferences } from './image-references';

const layers = [bytesLayer(Buffer.from('weights'))];
const index = assembleImageIndex({
  layers,
  platforms: [
    { os: 'linux', architecture: 'amd64' },
    { os: 'linux', architecture: 'arm64' },
  ],
});
const analysis = {
  manifest: { name: 'bert', image: 'localhost:5000/asset/bert' },
  layers: [{ kind: 'large-file', files: [{ imagePath: 'model.bin' }] }],
} as unknown as AssetAnalysis;

describe('assetImageIndexResult', () => {
  const refs = assetReferences('localhost:5000/asset/bert', ['0.1'], index.index.descriptor.digest);
  const result = assetImageIndexResult(analysis, index, refs);

  it("is the index's digest, with each platform's manifest and config", () => {
    expect(result.manifestDigest).toBe(index.index.descriptor.digest);
    expect(result.contentTag).toBe(`sha256-${index.index.descriptor.digest.slice(7, 27)}`);
    expect(result.platforms).toEqual(
      index.images.map(({ image }, i) => ({
        platform: ['linux/amd64', 'linux/arm64'][i],
        manifestDigest: image.manifest.descriptor.digest,
        configDigest: image.config.descriptor.digest,
      })),
    );
    expect(result.layers.map((l) => l.digest)).toEqual(layers.map((l) => l.descriptor.digest));
  });

  it.each<[string, number | undefined]>([
    ['linux/amd64', 0],
    ['linux/arm64', 1],
    ['linux/arm64/v8', 1],
    ['linux/s390x', undefined],
  ])('the %s variant', (platform, which) => {
    const variant = variantOf(result, platform);
    if (which === undefined) expect(variant).toBeUndefined();
    else
      expect(variant).toEqual({
        manifestDigest: index.images[which]!.image.manifest.descriptor.digest,
        configDigest: index.images[which]!.image.config.descriptor.digest,
      });
  });
});
