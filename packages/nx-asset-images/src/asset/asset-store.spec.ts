import { describe, expect, it } from 'vitest';
import { assetStorePaths } from './asset-store';

describe('assetStorePaths', () => {
  it.each<[string, NodeJS.ProcessEnv, { root: string; sources: string }]>([
    ['defaults', {}, { root: '/ws/.asset-images', sources: '/ws/.asset-images/sources' }],
    ['NX_ASSET_IMAGES_CACHE_DIR absolute', { NX_ASSET_IMAGES_CACHE_DIR: '/ci/cache' }, { root: '/ws/.asset-images', sources: '/ci/cache' }],
    [
      'NX_ASSET_IMAGES_CACHE_DIR empty = unset',
      { NX_ASSET_IMAGES_CACHE_DIR: '' },
      { root: '/ws/.asset-images', sources: '/ws/.asset-images/sources' },
    ],
    [
      'NX_ASSET_IMAGES_CACHE_DIR blank = unset',
      { NX_ASSET_IMAGES_CACHE_DIR: ' ' },
      { root: '/ws/.asset-images', sources: '/ws/.asset-images/sources' },
    ],
    [
      'NX_ASSET_IMAGES_CACHE_DIR relative: from the workspace root',
      { NX_ASSET_IMAGES_CACHE_DIR: 'tmp/sources' },
      { root: '/ws/.asset-images', sources: '/ws/tmp/sources' },
    ],
    ['NX_ASSET_IMAGES_STORE moves sources too', { NX_ASSET_IMAGES_STORE: '/store' }, { root: '/store', sources: '/store/sources' }],
    [
      'NX_ASSET_IMAGES_STORE relative, empty cache dir',
      { NX_ASSET_IMAGES_STORE: 'store', NX_ASSET_IMAGES_CACHE_DIR: '' },
      { root: '/ws/store', sources: '/ws/store/sources' },
    ],
    [
      'NX_ASSET_IMAGES_STORE empty = unset',
      { NX_ASSET_IMAGES_STORE: '' },
      { root: '/ws/.asset-images', sources: '/ws/.asset-images/sources' },
    ],
    [
      'both set: the cache dir wins for sources',
      { NX_ASSET_IMAGES_STORE: '/store', NX_ASSET_IMAGES_CACHE_DIR: 'c' },
      { root: '/store', sources: '/ws/c' },
    ],
  ])('%s', (_label, env, expected) => {
    const paths = assetStorePaths('/ws', undefined, env);
    expect(paths).toEqual({
      root: expected.root,
      statCache: `${expected.root}/stat-cache`,
      sources: expected.sources,
      ociLayout: `${expected.root}/oci`,
    });
  });

  it('an explicit store directory wins over NX_ASSET_IMAGES_STORE', () => {
    expect(assetStorePaths('/ws', 'mine', { NX_ASSET_IMAGES_STORE: '/store' }).root).toBe('/ws/mine');
  });
});
