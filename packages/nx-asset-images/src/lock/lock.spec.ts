import { describe, it, expect } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AssetLockError } from '../errors/asset-errors';
import {
  diffLock,
  formatLockDiff,
  isLockDiffEmpty,
  lockFromHashes,
  parseAssetLock,
  readAssetLock,
  sameLockImage,
  serializeAssetLock,
  type AssetLockImage,
} from './lock';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const C = 'c'.repeat(64);

describe('asset.lock.json', () => {
  it('serializes with sorted keys, 2-space indent and a trailing newline', () => {
    const lock = lockFromHashes([
      { relPath: 'weights/b.bin', size: 2, sha256: B, mode: 0o100755 },
      { relPath: 'a.txt', size: 1, sha256: A, mode: 0o644 },
      { relPath: 'Z.txt', size: 3, sha256: C, mode: 0o644 },
    ]);
    expect(serializeAssetLock(lock)).toBe(
      [
        '{',
        '  "lockfileVersion": 2,',
        '  "files": {',
        '    "Z.txt": {',
        '      "size": 3,',
        `      "sha256": "${C}",`,
        '      "mode": 420',
        '    },',
        '    "a.txt": {',
        '      "size": 1,',
        `      "sha256": "${A}",`,
        '      "mode": 420',
        '    },',
        '    "weights/b.bin": {',
        '      "size": 2,',
        `      "sha256": "${B}",`,
        '      "mode": 493',
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
    // A version 1 lock is written as version 2, the mode it lacks as 0644.
    expect(JSON.parse(one)).toEqual({
      lockfileVersion: 2,
      files: { a: { size: 2, sha256: A, mode: 0o644 }, b: { size: 1, sha256: B, mode: 0o644 } },
    });
  });

  it('rejects duplicate paths in lockFromHashes', () => {
    expect(() =>
      lockFromHashes([
        { relPath: 'a', size: 1, sha256: A, mode: 0o644 },
        { relPath: 'a', size: 1, sha256: A, mode: 0o644 },
      ]),
    ).toThrow(/duplicate path "a"/);
  });

  it.each([
    ['not JSON', '{', /is not valid JSON/],
    ['an array', '[]', /expected a JSON object/],
    ['wrong version', '{"lockfileVersion":3,"files":{}}', /"lockfileVersion": 2 \(or 1\), got 3/],
    ['no version', '{"files":{}}', /"lockfileVersion": 2 \(or 1\), got undefined/],
    ['files not an object', '{"lockfileVersion":1,"files":[]}', /"files" to be an object/],
    ['unknown field', '{"lockfileVersion":1,"files":{},"x":1}', /unknown field "x"/],
    ['an image in a version 1 lock', '{"lockfileVersion":1,"files":{},"image":{}}', /unknown field "image"/],
    ['unknown field (v2)', '{"lockfileVersion":2,"files":{},"x":1}', /unknown field "x"/],
    ['bad sha', `{"lockfileVersion":1,"files":{"a":{"size":1,"sha256":"${'A'.repeat(64)}"}}}`, /files\["a"\]/],
    ['bad size', `{"lockfileVersion":1,"files":{"a":{"size":-1,"sha256":"${A}"}}}`, /files\["a"\]/],
    ['a mode in a version 1 lock', `{"lockfileVersion":1,"files":{"a":{"size":1,"sha256":"${A}","mode":420}}}`, /files\["a"\]/],
    [
      'no mode (v2)',
      `{"lockfileVersion":2,"files":{"a":{"size":1,"sha256":"${A}"}}}`,
      /files\["a"\]: expected .*"mode": 420 \(0644\) or 493 \(0755\)/,
    ],
    ['negative mode', `{"lockfileVersion":2,"files":{"a":{"size":1,"sha256":"${A}","mode":-1}}}`, /files\["a"\]/],
    ['mode above 07777', `{"lockfileVersion":2,"files":{"a":{"size":1,"sha256":"${A}","mode":4096}}}`, /files\["a"\]/],
    ['fractional mode', `{"lockfileVersion":2,"files":{"a":{"size":1,"sha256":"${A}","mode":420.5}}}`, /files\["a"\]/],
    ['mode as a string', `{"lockfileVersion":2,"files":{"a":{"size":1,"sha256":"${A}","mode":"0644"}}}`, /files\["a"\]/],
    ['bad size (v2)', `{"lockfileVersion":2,"files":{"a":{"size":1.5,"sha256":"${A}","mode":420}}}`, /files\["a"\]/],
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
      const lock = lockFromHashes([{ relPath: 'a', size: 1, sha256: A, mode: 0o644 }]);
      await writeFile(path, serializeAssetLock(lock));
      expect(await readAssetLock(path)).toEqual(lock);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('diffs the committed lock against the files', () => {
    const expected = lockFromHashes([
      { relPath: 'same', size: 1, sha256: A, mode: 0o644 },
      { relPath: 'changed', size: 1, sha256: A, mode: 0o644 },
      { relPath: 'resized', size: 1, sha256: A, mode: 0o644 },
      { relPath: 'gone', size: 1, sha256: A, mode: 0o644 },
      { relPath: 'chmod', size: 1, sha256: A, mode: 0o644 },
    ]);
    const actual = lockFromHashes([
      { relPath: 'same', size: 1, sha256: A, mode: 0o644 },
      { relPath: 'changed', size: 1, sha256: B, mode: 0o644 },
      { relPath: 'resized', size: 2, sha256: A, mode: 0o644 },
      { relPath: 'new', size: 5, sha256: C, mode: 0o644 },
      { relPath: 'chmod', size: 1, sha256: A, mode: 0o755 },
    ]);
    const diff = diffLock(expected, actual);
    expect(diff).toEqual({
      added: ['new'],
      removed: ['gone'],
      changed: [
        { relPath: 'changed', expected: { size: 1, sha256: A, mode: 0o644 }, actual: { size: 1, sha256: B, mode: 0o644 } },
        { relPath: 'chmod', expected: { size: 1, sha256: A, mode: 0o644 }, actual: { size: 1, sha256: A, mode: 0o755 } },
        { relPath: 'resized', expected: { size: 1, sha256: A, mode: 0o644 }, actual: { size: 2, sha256: A, mode: 0o644 } },
      ],
    });
    expect(isLockDiffEmpty(diff)).toBe(false);
    expect(isLockDiffEmpty(diffLock(expected, expected))).toBe(true);
    expect(formatLockDiff(diff)).toBe(
      [
        '  + new (not in the lock)',
        '  - gone (in the lock, no longer a file)',
        `  ~ changed (lock: 1 bytes sha256 aaaaaaaaaaaa mode 0644, file: 1 bytes sha256 bbbbbbbbbbbb mode 0644)`,
        `  ~ chmod (lock: 1 bytes sha256 aaaaaaaaaaaa mode 0644, file: 1 bytes sha256 aaaaaaaaaaaa mode 0755)`,
        `  ~ resized (lock: 1 bytes sha256 aaaaaaaaaaaa mode 0644, file: 2 bytes sha256 aaaaaaaaaaaa mode 0644)`,
      ].join('\n'),
    );
  });
});

const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;
const D3 = `sha256:${'3'.repeat(64)}`;
const LAYER = 'application/vnd.oci.image.layer.v1.tar';
const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

/** A valid version 2 lock as JSON data, to break one field at a time. */
function v2(): Record<string, unknown> {
  return {
    lockfileVersion: 2,
    files: {
      'model.bin': { size: 3000, sha256: A, mode: 0o644 },
      'run.sh': { size: 10, sha256: B, mode: 0o755 },
    },
    image: {
      manifest: D1,
      mediaType: MANIFEST,
      mtime: 0,
      compression: 'none',
      destination: '/',
      layers: [
        { digest: D2, diffID: D2, size: 4096, mediaType: LAYER, files: ['model.bin'] },
        { digest: D3, diffID: D3, size: 2048, mediaType: LAYER, files: ['run.sh'] },
      ],
    },
  };
}

function broken(edit: (lock: Record<string, any>) => void): string {
  const lock = v2() as Record<string, any>;
  edit(lock);
  return JSON.stringify(lock);
}

describe('asset.lock.json version 2', () => {
  const FILE = 'assets/bert/asset.lock.json';

  it('reads files with modes and the image pin', () => {
    const lock = parseAssetLock(JSON.stringify(v2()), FILE);
    expect(lock).toEqual(v2());
    expect(lock.image!.layers[1]!.files).toEqual(['run.sh']);
  });

  it('reads a version 2 lock without an image pin', () => {
    const { image: _image, ...noImage } = v2();
    expect(parseAssetLock(JSON.stringify(noImage), FILE)).toEqual(noImage);
  });

  it('still reads version 1: no modes, no image', () => {
    const lock = parseAssetLock(`{"lockfileVersion":1,"files":{"a":{"size":1,"sha256":"${A}"}}}`, FILE);
    expect(lock).toEqual({ lockfileVersion: 1, files: { a: { size: 1, sha256: A } } });
    expect(lock.files.a!.mode).toBeUndefined();
  });

  it.each([0o644, 0o755])('accepts mode %o', (mode) => {
    const text = broken((l) => (l.files['model.bin'].mode = mode));
    expect(parseAssetLock(text, FILE).files['model.bin']!.mode).toBe(mode);
  });

  // asset-pull applies the mode: only what an image holds (layer-plan normalises to 0644/0755).
  it.each([0, 0o600, 0o777, 0o4755, 0o7777])('rejects mode %o naming the file', (mode) => {
    const text = broken((l) => (l.files['model.bin'].mode = mode));
    expect(() => parseAssetLock(text, FILE)).toThrow(/files\["model\.bin"\]: expected .*"mode": 420 \(0644\) or 493 \(0755\)/);
  });

  // asset-pull writes the lock's paths: a hostile lock must not name a file outside the asset folder.
  it.each(['/home/u/.bashrc', '../outside.bin', 'weights/../../x', 'a/./b', 'a//b', 'weights\\..\\x', 'C:/x', '..', ''])(
    'rejects the path %j',
    (relPath) => {
      const text = broken((l) => (l.files[relPath] = l.files['model.bin']));
      expect(() => parseAssetLock(text, FILE)).toThrow(AssetLockError);
      expect(() => parseAssetLock(text, FILE)).toThrow(/expected a path inside the asset folder/);
    },
  );

  it.each<[string, (lock: Record<string, any>) => void, string]>([
    ['image not an object', (l) => (l.image = []), 'image'],
    ['image null', (l) => (l.image = null), 'image'],
    ['unknown image field', (l) => (l.image.extra = 1), 'image.extra'],
    ['no manifest', (l) => delete l.image.manifest, 'image.manifest'],
    ['manifest not a digest', (l) => (l.image.manifest = 'sha256:abc'), 'image.manifest'],
    ['manifest in upper case', (l) => (l.image.manifest = D1.toUpperCase()), 'image.manifest'],
    ['no mediaType', (l) => delete l.image.mediaType, 'image.mediaType'],
    ['empty mediaType', (l) => (l.image.mediaType = ''), 'image.mediaType'],
    ['mtime negative', (l) => (l.image.mtime = -1), 'image.mtime'],
    ['mtime a string', (l) => (l.image.mtime = '0'), 'image.mtime'],
    ['mtime fractional', (l) => (l.image.mtime = 1.5), 'image.mtime'],
    ['unknown compression', (l) => (l.image.compression = 'brotli'), 'image.compression'],
    ['no compression', (l) => delete l.image.compression, 'image.compression'],
    ['no destination', (l) => delete l.image.destination, 'image.destination'],
    ['relative destination', (l) => (l.image.destination = 'models'), 'image.destination'],
    ['repository with a tag', (l) => (l.image.repository = 'localhost:5000/asset/bert:0.1'), 'image.repository'],
    ['repository with a digest', (l) => (l.image.repository = `localhost:5000/asset/bert@${D1}`), 'image.repository'],
    ['repository without a registry', (l) => (l.image.repository = 'bert'), 'image.repository'],
    ['repository not a string', (l) => (l.image.repository = 5), 'image.repository'],
    ['repository in upper case', (l) => (l.image.repository = 'localhost:5000/Asset/Bert'), 'image.repository'],
    ['tags not an array', (l) => (l.image.tags = '0.1'), 'image.tags'],
    ['a tag that is no tag', (l) => (l.image.tags = ['0.1', 'a/b']), 'image.tags'],
    ['layers not an array', (l) => (l.image.layers = {}), 'image.layers'],
    ['layer not an object', (l) => (l.image.layers[0] = 'x'), 'image.layers[0]'],
    ['layer null', (l) => (l.image.layers[1] = null), 'image.layers[1]'],
    ['unknown layer field', (l) => (l.image.layers[1].annotations = {}), 'image.layers[1].annotations'],
    ['layer digest missing', (l) => delete l.image.layers[0].digest, 'image.layers[0].digest'],
    ['layer digest not sha256', (l) => (l.image.layers[0].digest = `sha512:${'1'.repeat(128)}`), 'image.layers[0].digest'],
    ['layer diffID missing', (l) => delete l.image.layers[0].diffID, 'image.layers[0].diffID'],
    ['layer diffID bad', (l) => (l.image.layers[1].diffID = 'x'), 'image.layers[1].diffID'],
    ['layer size negative', (l) => (l.image.layers[0].size = -1), 'image.layers[0].size'],
    ['layer size a string', (l) => (l.image.layers[0].size = '4096'), 'image.layers[0].size'],
    ['layer mediaType missing', (l) => delete l.image.layers[0].mediaType, 'image.layers[0].mediaType'],
    ['layer mediaType empty', (l) => (l.image.layers[0].mediaType = ''), 'image.layers[0].mediaType'],
    ['layer files missing', (l) => delete l.image.layers[0].files, 'image.layers[0].files'],
    ['layer files not strings', (l) => (l.image.layers[0].files = [1]), 'image.layers[0].files'],
    ['layer file not in "files"', (l) => l.image.layers[1].files.push('other.bin'), 'image.layers[1].files'],
  ])('rejects %s, naming the field', (_label, edit, field) => {
    const text = broken(edit);
    expect(() => parseAssetLock(text, FILE)).toThrow(AssetLockError);
    const escaped = field.replace(/[.[\]]/g, '\\$&');
    expect(() => parseAssetLock(text, FILE)).toThrow(new RegExp(`^assets/bert/asset\\.lock\\.json: ${escaped}: expected `));
  });

  it('names the layer file that is not in "files"', () => {
    const text = broken((l) => (l.image.layers[0].files = ['model.bin', 'gone.bin']));
    expect(() => parseAssetLock(text, FILE)).toThrow(/image\.layers\[0\]\.files: expected paths listed in "files" \("gone\.bin" is not\)/);
  });

  it('round-trips the image pin; layer files are written sorted, the version is 2', () => {
    const data = v2() as Record<string, any>;
    data.image.layers[1].files = [];
    data.image.layers.push({ digest: D1, diffID: D2, size: 10, mediaType: `${LAYER}+gzip`, files: ['run.sh', 'model.bin'] });
    const text = serializeAssetLock(parseAssetLock(JSON.stringify(data), FILE));
    const again = parseAssetLock(text, FILE);
    expect(serializeAssetLock(again)).toBe(text);
    expect(again.image!.layers[2]!.files).toEqual(['model.bin', 'run.sh']);
    expect(JSON.parse(text).lockfileVersion).toBe(2);
    // Key order of the written image is fixed, whatever the input's.
    expect(Object.keys(JSON.parse(text).image)).toEqual(['manifest', 'mediaType', 'mtime', 'compression', 'destination', 'layers']);
    // The layers' repository, when recorded, is kept in its place.
    const withRepository = serializeAssetLock(
      parseAssetLock(JSON.stringify({ ...data, image: { repository: 'registry.example.com:5000/asset/bert', ...data.image } }), FILE),
    );
    expect(JSON.parse(withRepository).image.repository).toBe('registry.example.com:5000/asset/bert');
    expect(Object.keys(JSON.parse(withRepository).image)).toEqual([
      'manifest',
      'mediaType',
      'mtime',
      'compression',
      'destination',
      'repository',
      'layers',
    ]);
    expect(Object.keys(JSON.parse(text).image.layers[0])).toEqual(['digest', 'diffID', 'size', 'mediaType', 'files']);
  });

  it('lockFromHashes keeps the permission bits only and takes the image pin', () => {
    const image = (v2() as { image: AssetLockImage }).image;
    const lock = lockFromHashes(
      [
        { relPath: 'run.sh', size: 10, sha256: B, mode: 0o100755 },
        { relPath: 'model.bin', size: 3000, sha256: A, mode: 0o100644 },
      ],
      image,
    );
    expect(lock).toEqual(v2());
    expect(Object.keys(lock.files)).toEqual(['model.bin', 'run.sh']);
    expect(lockFromHashes([])).toEqual({ lockfileVersion: 2, files: {} });
  });

  it('sameLockImage: equal pins (layer files in any order), different pins, absent ones', () => {
    const a = (v2() as { image: AssetLockImage }).image;
    const b = structuredClone(a);
    expect(sameLockImage(a, b)).toBe(true);
    expect(sameLockImage(undefined, undefined)).toBe(true);
    expect(sameLockImage(a, undefined)).toBe(false);
    expect(sameLockImage(undefined, a)).toBe(false);
    b.layers[0]!.files = [];
    a.layers[0]!.files = [];
    b.layers.push({ ...b.layers[0]!, files: ['run.sh', 'model.bin'] });
    a.layers.push({ ...a.layers[0]!, files: ['model.bin', 'run.sh'] });
    expect(sameLockImage(a, b)).toBe(true);
    expect(sameLockImage(a, { ...b, mtime: 1 })).toBe(false);
    expect(sameLockImage(a, { ...b, compression: 'gzip' })).toBe(false);
    expect(sameLockImage(a, { ...b, destination: '/models' })).toBe(false);
    expect(sameLockImage(a, { ...b, manifest: D3 })).toBe(false);
  });

  it('diffLock compares modes only when both sides have them (a version 1 lock has none)', () => {
    const v1 = parseAssetLock(`{"lockfileVersion":1,"files":{"run.sh":{"size":10,"sha256":"${B}"}}}`, FILE);
    const actual = lockFromHashes([{ relPath: 'run.sh', size: 10, sha256: B, mode: 0o755 }]);
    expect(isLockDiffEmpty(diffLock(v1, actual))).toBe(true);
    const v2lock = lockFromHashes([{ relPath: 'run.sh', size: 10, sha256: B, mode: 0o644 }]);
    expect(diffLock(v2lock, actual).changed.map((c) => c.relPath)).toEqual(['run.sh']);
    expect(formatLockDiff(diffLock(v1, lockFromHashes([{ relPath: 'run.sh', size: 11, sha256: B, mode: 0o755 }])))).toBe(
      '  ~ run.sh (lock: 10 bytes sha256 bbbbbbbbbbbb, file: 11 bytes sha256 bbbbbbbbbbbb mode 0755)',
    );
  });
});
