import { describe, expect, it } from 'vitest';
import { normalizePluginOptions } from '../nx/plugin-options';
import { assetImageTarget } from './asset-targets';

describe('asset-image target from the plugin options', () => {
  it.each([
    ['no options', undefined, {}],
    ['platforms', { platforms: ['linux/arm64'] }, { platforms: ['linux/arm64'] }],
    ['largeFileThreshold', { largeFileThreshold: 1024.5 }, { largeFileThreshold: 1024 }],
    ['both', { platforms: ['linux/amd64'], largeFileThreshold: 10 }, { platforms: ['linux/amd64'], largeFileThreshold: 10 }],
  ])('%s', (_, options, expected) => {
    const opts = normalizePluginOptions(options);
    const target = assetImageTarget('assets/x', 'x', opts.largeFileThreshold, opts.platforms);
    const { manifest: _m, outputPath: _o, ...rest } = target.options as Record<string, unknown>;
    // Target options are hashed by Nx: another platform list is another cache key.
    expect(rest).toEqual(expected);
  });
});
