import { describe, expect, it } from 'vitest';
import { hasChanges, pinSources, sourceChanges } from './hub-sources';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const COMMIT = 'c'.repeat(40);

describe('pinSources', () => {
  it.each([
    [
      'an LFS file: sha256 and size of the LFS object, URL pinned to the commit',
      [{ path: 'w/model.safetensors', size: 10, gitOid: 'g', lfs: { sha256: A, size: 10 } }],
      new Map<string, string>(),
      [{ url: `http://hub/org/repo/resolve/${COMMIT}/w/model.safetensors`, sha256: A, size: 10, path: 'w/model.safetensors' }],
    ],
    [
      'a small file: sha256 of its download, nested path kept',
      [{ path: 'sub/dir/config.json', size: 3, gitOid: 'g' }],
      new Map([['sub/dir/config.json', B]]),
      [{ url: `http://hub/org/repo/resolve/${COMMIT}/sub/dir/config.json`, sha256: B, size: 3, path: 'sub/dir/config.json' }],
    ],
    [
      'sorted by path',
      [
        { path: 'b', size: 1, gitOid: 'g', lfs: { sha256: B, size: 1 } },
        { path: 'a', size: 1, gitOid: 'g', lfs: { sha256: A, size: 1 } },
      ],
      new Map<string, string>(),
      [
        { url: `http://hub/org/repo/resolve/${COMMIT}/a`, sha256: A, size: 1, path: 'a' },
        { url: `http://hub/org/repo/resolve/${COMMIT}/b`, sha256: B, size: 1, path: 'b' },
      ],
    ],
  ])('%s', (_name, files, hashes, expected) => {
    expect(pinSources({ endpoint: 'http://hub', repoId: 'org/repo', commit: COMMIT, files, smallFileHashes: hashes })).toEqual(expected);
  });
});

describe('sourceChanges', () => {
  it.each([
    ['nothing', [{ path: 'a', sha256: A }], [{ path: 'a', sha256: A.toUpperCase() }], { added: [], removed: [], changed: [] }, false],
    ['changed content', [{ path: 'a', sha256: A }], [{ path: 'a', sha256: B }], { added: [], removed: [], changed: ['a'] }, true],
    ['added and removed', [{ path: 'x', sha256: A }], [{ path: 'y', sha256: A }], { added: ['y'], removed: ['x'], changed: [] }, true],
  ])('%s', (_name, before, after, expected, changed) => {
    expect(sourceChanges(before, after)).toEqual(expected);
    expect(hasChanges(sourceChanges(before, after))).toBe(changed);
  });
});
