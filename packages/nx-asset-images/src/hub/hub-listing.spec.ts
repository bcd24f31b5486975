import { describe, expect, it } from 'vitest';
import { HubListingError, nextPageUrl, parseRevisionCommit, parseTreePage } from './hub-listing';

const SHA = 'ab'.repeat(32);
const COMMIT = 'cd'.repeat(20);

describe('parseTreePage (list_repo_tree entries: RepoFile, BlobLfsInfo, RepoFolder)', () => {
  it.each([
    ['an empty page', [], []],
    ['a small file', [{ type: 'file', oid: 'g1', size: 12, path: 'config.json' }], [{ path: 'config.json', size: 12, gitOid: 'g1' }]],
    [
      'an LFS file: sha256 and size from lfs',
      [{ type: 'file', oid: 'g2', size: 2048, path: 'w/model.safetensors', lfs: { oid: SHA, size: 2048, pointerSize: 134 } }],
      [{ path: 'w/model.safetensors', size: 2048, gitOid: 'g2', lfs: { sha256: SHA, size: 2048 } }],
    ],
    ['folders are left out', [{ type: 'directory', oid: 't1', size: 0, path: 'w' }], []],
    [
      'extra fields (expand) are ignored, lfs null is none',
      [{ type: 'file', oid: 'g3', size: 1, path: 'a', lfs: null, lastCommit: { id: 'x' }, securityFileStatus: {} }],
      [{ path: 'a', size: 1, gitOid: 'g3' }],
    ],
  ])('%s', (_name, page, expected) => {
    expect(parseTreePage(page)).toEqual(expected);
  });

  it.each([
    ['not a list', { files: [] }, 'tree'],
    ['an entry of another type', [{ type: 'submodule', oid: 'x', size: 0, path: 'a' }], 'tree[0].type'],
    ['a path leaving the repo', [{ type: 'file', oid: 'x', size: 1, path: '../a' }], 'tree[0].path'],
    ['an absolute path', [{ type: 'file', oid: 'x', size: 1, path: '/a' }], 'tree[0].path'],
    ['a negative size', [{ type: 'file', oid: 'x', size: -1, path: 'a' }], 'tree[0].size'],
    ['an lfs oid that is not a sha256', [{ type: 'file', oid: 'x', size: 1, path: 'a', lfs: { oid: 'xyz', size: 1 } }], 'tree[0].lfs.oid'],
    ['an lfs entry without size', [{ type: 'file', oid: 'x', size: 1, path: 'a', lfs: { oid: SHA } }], 'tree[0].lfs.size'],
  ])('rejects %s', (_name, page, field) => {
    expect(() => parseTreePage(page)).toThrow(HubListingError);
    expect(() => parseTreePage(page)).toThrow(expect.objectContaining({ field }) as Error);
  });
});

describe('parseRevisionCommit (ModelInfo.sha)', () => {
  it('takes sha', () => {
    expect(parseRevisionCommit({ id: 'org/repo', sha: COMMIT, siblings: [] })).toBe(COMMIT);
  });
  it.each([[null], [[]], [{ id: 'org/repo' }], [{ sha: 'main' }], [{ sha: COMMIT.toUpperCase() }]])('rejects %j', (answer) => {
    expect(() => parseRevisionCommit(answer)).toThrow(HubListingError);
  });
});

describe('nextPageUrl (Link header, as requests/httpx parse it)', () => {
  const page = new URL('http://127.0.0.1:1/api/models/o/r/tree/c?recursive=true');
  it.each([
    [undefined, undefined],
    ['', undefined],
    ['<http://127.0.0.1:1/next?cursor=2>; rel="next"', 'http://127.0.0.1:1/next?cursor=2'],
    ['<http://h/first>; rel="first", <http://h/n?c=a%2Cb>; rel="next"', 'http://h/n?c=a%2Cb'],
    ['</api/models/o/r/tree/c?cursor=3>; rel=next', 'http://127.0.0.1:1/api/models/o/r/tree/c?cursor=3'],
    ['<http://h/p>; rel="prev"', undefined],
    ['<http://h/n>; title="x"; REL="Next"', 'http://h/n'],
  ])('%s', (link, expected) => {
    expect(nextPageUrl(link, page)?.href).toBe(expected);
  });
});
