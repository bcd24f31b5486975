import { describe, expect, it } from 'vitest';
import type { AssetLockImage } from '../lock/lock';
import { unchangedVersionTags } from './lock-pin';

const pin = (manifest: string, tags?: string[]): AssetLockImage => ({
  manifest,
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  mtime: 0,
  compression: 'none',
  destination: '/',
  ...(tags ? { tags } : {}),
  layers: [],
});

describe('unchangedVersionTags: version tags kept on new content', () => {
  it.each<[string, AssetLockImage | undefined, { manifest: string; tags: string[] }, string[]]>([
    ['no committed pin', undefined, { manifest: 'B', tags: ['0.1'] }, []],
    ['a pin without tags (older lock)', pin('A'), { manifest: 'B', tags: ['0.1'] }, []],
    ['the same content', pin('A', ['0.1']), { manifest: 'A', tags: ['0.1'] }, []],
    ['new content, same version tag', pin('A', ['0.1', 'latest']), { manifest: 'B', tags: ['0.1', 'latest'] }, ['0.1']],
    ['new content, a new version tag', pin('A', ['0.1', 'latest']), { manifest: 'B', tags: ['0.2', 'latest'] }, []],
    ['new content, the old tag kept beside a new one', pin('A', ['0.1']), { manifest: 'B', tags: ['0.1', '0.2'] }, ['0.1']],
    ['a tag listed as mutable', pin('A', ['stable']), { manifest: 'B', tags: ['stable'] }, []],
  ])('%s', (_name, committed, next, expected) => {
    expect(unchangedVersionTags(committed, next, ['latest', 'stable'])).toEqual(expected);
  });
});
