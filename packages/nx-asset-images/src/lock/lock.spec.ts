import { describe, it, expect } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AssetLockError } from '../errors/asset-errors';
import { diffLock, formatLockDiff, isLockDiffEmpty, lockFromHashes, parseAssetLock, readAssetLock, serializeAssetLock } from './lock';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const C = 'c'.repeat(64);

describe('asset.lock.json', () => {
  it('serializes with sorted keys, 2-space indent and a trailing newline', () => {
    const lock = lockFromHashes([
      { relPath: 'weights/b.bin', size: 2, sha256: B },
      { relPath: 'a.txt', size: 1, sha256: A },
      { relPath: 'Z.txt', size: 3, sha256: C },
    ]);
    expect(serializeAssetLock(lock)).toBe(
      [
        '{',
        '  "lockfileVersion": 1,',
        '  "files": {',
        '    "Z.txt": {',
        '      "size": 3,',
        `      "sha256": "${C}"`,
        '    },',
        '    "a.txt": {',
        '      "size": 1,',
        `      "sha256": "${A}"`,
        '    },',
        '    "weights/b.bin": {',
        '      "size": 2,',
        `      "sha256": "${B}"`,
        '    }',
        '  }',
        '}',
        '',
      ].join('\n'),
    );
  });

  it('round-trips and is independent of insertion order', () => {
    const one = serializeAssetLock({ lockfileVersion: 1, files: { b: { size: 1, sha256: B }, a: { size: 2, sha256: A } } });
    const two = serializeAssetLock({ lockfileVersion: 1, files: { a: { sha256: A, size: 2 } as never, b: { size: 1, sha256: B } } });
    expect(one).toBe(two);
    expect(serializeAssetLock(parseAssetLock(one, 'x'))).toBe(one);
  });

  it('rejects duplicate paths in lockFromHashes', () => {
    expect(() =>
      lockFromHashes([
        { relPath: 'a', size: 1, sha256: A },
        { relPath: 'a', size: 1, sha256: A },
      ]),
    ).toThrow(/duplicate path "a"/);
  });

  it.each([
    ['not JSON', '{', /is not valid JSON/],
    ['an array', '[]', /expected a JSON object/],
    ['wrong version', '{"lockfileVersion":2,"files":{}}', /"lockfileVersion": 1, got 2/],
    ['files not an object', '{"lockfileVersion":1,"files":[]}', /"files" to be an object/],
    ['unknown field', '{"lockfileVersion":1,"files":{},"x":1}', /unknown field "x"/],
    ['bad sha', `{"lockfileVersion":1,"files":{"a":{"size":1,"sha256":"${'A'.repeat(64)}"}}}`, /entry "a"/],
    ['bad size', `{"lockfileVersion":1,"files":{"a":{"size":-1,"sha256":"${A}"}}}`, /entry "a"/],
  ])('rejects %s naming the file', (_label, text, message) => {
    expect(() => parseAssetLock(text, 'assets/bert/asset.lock.json')).toThrow(AssetLockError);
    expect(() => parseAssetLock(text, 'assets/bert/asset.lock.json')).toThrow(message);
    expect(() => parseAssetLock(text, 'assets/bert/asset.lock.json')).toThrow(/^assets\/bert\/asset\.lock\.json: /);
  });

  it('reads from disk: undefined when missing, error naming the file when corrupt', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'asset-lock-'));
    try {
      const path = join(dir, 'asset.lock.json');
      expect(await readAssetLock(path)).toBeUndefined();
      await writeFile(path, 'garbage');
      await expect(readAssetLock(path)).rejects.toThrow(new RegExp(`^${path}: is not valid JSON`));
      const lock = lockFromHashes([{ relPath: 'a', size: 1, sha256: A }]);
      await writeFile(path, serializeAssetLock(lock));
      expect(await readAssetLock(path)).toEqual(lock);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('diffs the committed lock against the files', () => {
    const expected = lockFromHashes([
      { relPath: 'same', size: 1, sha256: A },
      { relPath: 'changed', size: 1, sha256: A },
      { relPath: 'resized', size: 1, sha256: A },
      { relPath: 'gone', size: 1, sha256: A },
    ]);
    const actual = lockFromHashes([
      { relPath: 'same', size: 1, sha256: A },
      { relPath: 'changed', size: 1, sha256: B },
      { relPath: 'resized', size: 2, sha256: A },
      { relPath: 'new', size: 5, sha256: C },
    ]);
    const diff = diffLock(expected, actual);
    expect(diff).toEqual({
      added: ['new'],
      removed: ['gone'],
      changed: [
        { relPath: 'changed', expected: { size: 1, sha256: A }, actual: { size: 1, sha256: B } },
        { relPath: 'resized', expected: { size: 1, sha256: A }, actual: { size: 2, sha256: A } },
      ],
    });
    expect(isLockDiffEmpty(diff)).toBe(false);
    expect(isLockDiffEmpty(diffLock(expected, expected))).toBe(true);
    expect(formatLockDiff(diff)).toBe(
      [
        '  + new (not in the lock)',
        '  - gone (in the lock, no longer a file)',
        `  ~ changed (lock: 1 bytes sha256 aaaaaaaaaaaa, file: 1 bytes sha256 bbbbbbbbbbbb)`,
        `  ~ resized (lock: 1 bytes sha256 aaaaaaaaaaaa, file: 2 bytes sha256 aaaaaaaaaaaa)`,
      ].join('\n'),
    );
  });
});
