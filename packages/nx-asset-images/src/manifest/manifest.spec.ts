import Ajv from 'ajv';
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { AssetManifestError } from '../errors/asset-errors';
import { assetSchemaPath, jsonPointerToField, parseAssetManifest } from './manifest';
import { jsonErrorOffset } from './manifest-json-position';
import { LAYER_CODECS } from '../oci/layer-codecs';
import { PLATFORM_PATTERN } from '../oci/platform';

const FILE = 'assets/bert/asset.json';
const ROOT = 'assets/bert';
const SHA = 'a'.repeat(64);
const parse = (value: unknown) => parseAssetManifest(typeof value === 'string' ? value : JSON.stringify(value), FILE, ROOT);

function errorOf(value: unknown): AssetManifestError {
  try {
    parse(value);
  } catch (error) {
    expect(error).toBeInstanceOf(AssetManifestError);
    return error as AssetManifestError;
  }
  throw new Error('expected parseAssetManifest to throw');
}

describe('parseAssetManifest', () => {
  it('applies the defaults', () => {
    expect(parse({ image: 'localhost:5000/asset/bert' })).toEqual({
      file: FILE,
      projectRoot: ROOT,
      name: 'assets-bert',
      image: 'localhost:5000/asset/bert',
      tags: ['latest'],
      files: ['**/*'],
      exclude: [],
      destination: '/',
      sources: [],
      compression: 'none',
      annotations: {},
    });
  });

  it('keeps every field as written and normalises paths', () => {
    const manifest = parse({
      $schema: '../../node_modules/nx-asset-images/asset.schema.json',
      name: 'models-bert',
      image: 'asset/bert',
      tags: ['0.1', 'stable'],
      files: ['weights/**', '!weights/tmp/**', 'vocab.txt'],
      exclude: ['**/*.tmp'],
      destination: '/models/bert/',
      sources: [{ url: 'https://example.com/model.bin', sha256: 'A'.repeat(64), path: './weights/model.bin', size: 12 }],
      compression: 'zstd',
      annotations: { 'org.opencontainers.image.source': 'https://example.com/repo' },
    });
    expect(manifest).toMatchObject({
      name: 'models-bert',
      image: 'asset/bert',
      tags: ['0.1', 'stable'],
      files: ['weights/**', '!weights/tmp/**', 'vocab.txt'],
      exclude: ['**/*.tmp'],
      destination: '/models/bert',
      sources: [{ url: 'https://example.com/model.bin', sha256: 'a'.repeat(64), path: 'weights/model.bin', size: 12 }],
      compression: 'zstd',
      annotations: { 'org.opencontainers.image.source': 'https://example.com/repo' },
    });
  });

  it('parses platforms in their order; without the field none is set (the plugin option decides)', () => {
    expect(parse({ image: 'asset/bert', platforms: ['linux/amd64', 'linux/arm64', 'linux/arm/v7'] }).platforms).toEqual([
      { os: 'linux', architecture: 'amd64' },
      { os: 'linux', architecture: 'arm64' },
      { os: 'linux', architecture: 'arm', variant: 'v7' },
    ]);
    expect(parse({ image: 'asset/bert' }).platforms).toBeUndefined();
  });

  it.each([
    ['assets/models/bert', 'assets-models-bert'],
    ['./assets/x/', 'assets-x'],
    ['.', 'asset'],
  ])('derives the default name of %s as %s', (root, name) => {
    expect(parseAssetManifest('{"image":"asset/x"}', 'x/asset.json', root).name).toBe(name);
  });

  it.each<[string, unknown, string, RegExp]>([
    ['invalid JSON with line and column', '{\n  "image": "asset/bert",\n  "tags": [}\n', '', /valid JSON \(line 3, column 12/],
    ['truncated JSON', '{"image": "asset/bert"', '', /valid JSON \(line 1, column \d+/],
    ['not an object', '[]', '', /expected object, got array \[\]/],
    ['missing image', { tags: ['x'] }, 'image', /field "image": expected a value \(the field is required\)/],
    [
      'unknown field',
      { image: 'asset/bert', compresion: 'gzip' },
      'compresion',
      /field "compresion": expected a known field \(\$schema, name, image, tags/,
    ],
    [
      'unknown source field',
      { image: 'asset/bert', sources: [{ url: 'https://e.x/a', sha256: SHA, path: 'a', checksum: 'x' }] },
      'sources[0].checksum',
      /known field \(url, sha256, path, size\)/,
    ],
    ['image wrong type', { image: 42 }, 'image', /field "image": expected string, got number 42/],
    ['tags wrong type', { image: 'asset/bert', tags: 'latest' }, 'tags', /expected array, got "latest"/],
    ['tag item wrong type', { image: 'asset/bert', tags: ['ok', 3] }, 'tags[1]', /expected string/],
    ['invalid tag', { image: 'asset/bert', tags: ['-bad'] }, 'tags[0]', /A Docker tag/],
    ['duplicate tags', { image: 'asset/bert', tags: ['a', 'a'] }, 'tags', /no duplicate items/],
    ['platforms empty', { image: 'asset/bert', platforms: [] }, 'platforms', /non-empty array|more than 0|at least 1/],
    ['platform without architecture', { image: 'asset/bert', platforms: ['linux'] }, 'platforms[0]', /platforms\[0\]/],
    ['platform in upper case', { image: 'asset/bert', platforms: ['linux/AMD64'] }, 'platforms[0]', /platforms\[0\]/],
    ['platform twice', { image: 'asset/bert', platforms: ['linux/amd64', 'linux/amd64'] }, 'platforms', /duplicate/],
    [
      'arm64 and arm64/v8, which are one',
      { image: 'asset/bert', platforms: ['linux/arm64', 'linux/arm64/v8'] },
      'platforms[1]',
      /each platform once \(linux\/arm64 is platforms\[0\] too\)/,
    ],
    [
      'compression enum',
      { image: 'asset/bert', compression: 'lz4' },
      'compression',
      /^assets\/bert\/asset\.json: field "compression": expected one of none, gzip, zstd, got "lz4"$/,
    ],
    [
      'destination not absolute',
      { image: 'asset/bert', destination: 'models' },
      'destination',
      /expected an absolute directory inside the image/,
    ],
    ['destination with ..', { image: 'asset/bert', destination: '/models/../etc' }, 'destination', /without "\.\." segments/],
    ['absolute files glob', { image: 'asset/bert', files: ['a', '/etc/**'] }, 'files[1]', /relative to the asset folder/],
    ['files glob with ..', { image: 'asset/bert', files: ['../other/**'] }, 'files[0]', /no "\.\." segment/],
    ['negated files glob with ..', { image: 'asset/bert', files: ['**', '!../x'] }, 'files[1]', /no "\.\." segment/],
    ['windows absolute exclude', { image: 'asset/bert', exclude: ['C:/x'] }, 'exclude[0]', /not absolute/],
    ['empty files', { image: 'asset/bert', files: [] }, 'files', /non-empty array/],
    ['invalid image reference', { image: 'Asset/Bert!' }, 'image', /field "image": expected an image repository .*got "Asset\/Bert!"/],
    ['image with tag', { image: 'asset/bert:1.0' }, 'image', /without tag or digest/],
    [
      'sha256 too short',
      { image: 'asset/bert', sources: [{ url: 'https://e.x/a', sha256: 'abc', path: 'a' }] },
      'sources[0].sha256',
      /expected a sha256: 64 hex characters, got "abc"/,
    ],
    [
      'sha256 not hex',
      { image: 'asset/bert', sources: [{ url: 'https://e.x/a', sha256: 'g'.repeat(64), path: 'a' }] },
      'sources[0].sha256',
      /64 hex/,
    ],
    ['missing source path', { image: 'asset/bert', sources: [{ url: 'https://e.x/a', sha256: SHA }] }, 'sources[0].path', /required/],
    [
      'source url not http',
      { image: 'asset/bert', sources: [{ url: 'file:///etc/passwd', sha256: SHA, path: 'a' }] },
      'sources[0].url',
      /http or https/,
    ],
    [
      'source url not a URL',
      { image: 'asset/bert', sources: [{ url: 'nope', sha256: SHA, path: 'a' }] },
      'sources[0].url',
      /absolute http\(s\) URL/,
    ],
    [
      'source url with user:password@',
      { image: 'asset/bert', sources: [{ url: 'https://bob:hunter2@e.x/a?sig=s1', sha256: SHA, path: 'a' }] },
      'sources[0].url',
      /^assets\/bert\/asset\.json: field "sources\[0\]\.url": expected a URL without user:password@ \(put a token in NX_ASSET_IMAGES_TOKEN_E_X instead\), got "https:\/\/e\.x\/a\?sig=REDACTED"$/,
    ],
    [
      'source url with a user (token) only',
      {
        image: 'asset/bert',
        sources: [
          { url: 'https://e.x/ok', sha256: SHA, path: 'ok' },
          { url: 'http://hf_tok3n@127.0.0.1:8080/a', sha256: SHA, path: 'a' },
        ],
      },
      'sources[1].url',
      /expected a URL without user:password@ \(put a token in NX_ASSET_IMAGES_TOKEN_127_0_0_1 instead\), got "http:\/\/127\.0\.0\.1:8080\/a"$/,
    ],
    [
      'absolute source path',
      { image: 'asset/bert', sources: [{ url: 'https://e.x/a', sha256: SHA, path: '/a' }] },
      'sources[0].path',
      /not absolute/,
    ],
    [
      'source path with ..',
      { image: 'asset/bert', sources: [{ url: 'https://e.x/a', sha256: SHA, path: 'a/../../b' }] },
      'sources[0].path',
      /no "\.\." segment/,
    ],
    [
      'source path is a directory',
      { image: 'asset/bert', sources: [{ url: 'https://e.x/a', sha256: SHA, path: 'w/' }] },
      'sources[0].path',
      /a file path/,
    ],
    [
      'duplicate source paths',
      {
        image: 'asset/bert',
        sources: [
          { url: 'https://e.x/a', sha256: SHA, path: 'w/a.bin' },
          { url: 'https://e.x/b', sha256: SHA, path: './w/a.bin' },
        ],
      },
      'sources[1].path',
      /not already used by sources\[0\]\.path/,
    ],
    [
      'source path nested under another',
      {
        image: 'asset/bert',
        sources: [
          { url: 'https://e.x/a', sha256: SHA, path: 'w' },
          { url: 'https://e.x/b', sha256: SHA, path: 'w/b' },
        ],
      },
      'sources[1].path',
      /neither a parent nor a child/,
    ],
    [
      'negative source size',
      { image: 'asset/bert', sources: [{ url: 'https://e.x/a', sha256: SHA, path: 'a', size: -1 }] },
      'sources[0].size',
      /number >= 0/,
    ],
    ['annotation not a string', { image: 'asset/bert', annotations: { a: 'x', b: 1 } }, 'annotations.b', /expected string, got number 1/],
    ['annotation key with dots', { image: 'asset/bert', annotations: { 'org.x.y': true } }, 'annotations["org.x.y"]', /expected string/],
  ])('rejects %s', (_label, value, field, message) => {
    const error = errorOf(value);
    expect(error.file).toBe(FILE);
    expect(error.field).toBe(field);
    expect(error.message).toMatch(message);
    expect(error.message.startsWith(`${FILE}:`)).toBe(true);
  });

  it.each(['https://bob:hunter2@e.x/a', 'ftp://bob:hunter2@e.x/a'])(
    'never puts the password of a source url into the error (%s)',
    (url) => {
      const error = errorOf({ image: 'asset/bert', sources: [{ url, sha256: SHA, path: 'a' }] });
      expect(error.field).toBe('sources[0].url');
      expect(`${error.message}\n${String(error.received)}\n${error.stack}`).not.toMatch(/hunter2|bob/);
    },
  );

  it('keeps the image reference error as cause', () => {
    const error = errorOf({ image: 'UPPER/Case::x' });
    expect(error.cause).toBeInstanceOf(Error);
    expect(error.received).toBe('UPPER/Case::x');
  });
});

describe('jsonPointerToField', () => {
  it.each([
    ['', ''],
    ['/sources/1/sha256', 'sources[1].sha256'],
    ['/annotations/a~1b', 'annotations["a/b"]'],
  ])('%s → %s', (pointer, field) => expect(jsonPointerToField(pointer)).toBe(field));
});

describe('asset.schema.json', () => {
  it('is a draft-07 schema with an $id and closed objects', () => {
    const schema = JSON.parse(readFileSync(assetSchemaPath(), 'utf8'));
    expect(schema.$schema).toBe('http://json-schema.org/draft-07/schema#');
    expect(schema.$id).toMatch(/^https:\/\//);
    expect(schema.additionalProperties).toBe(false);
    expect(schema.properties.sources.items.additionalProperties).toBe(false);
    for (const [key, property] of Object.entries<{ description?: string }>(schema.properties)) {
      expect(property.description, key).toBeTruthy();
    }
  });

  it('is valid against the draft-07 meta-schema (the parser compiles it without that check)', () => {
    const schema = JSON.parse(readFileSync(assetSchemaPath(), 'utf8'));
    const ajv = new Ajv({ strict: true });
    expect(ajv.validateSchema(schema), JSON.stringify(ajv.errors)).toBe(true);
    expect(() => ajv.compile(schema)).not.toThrow();
  });

  it('lists the codec table\'s names as the "compression" enum, in its order', () => {
    const schema = JSON.parse(readFileSync(assetSchemaPath(), 'utf8'));
    expect(schema.properties.compression.enum).toEqual(LAYER_CODECS.map((codec) => codec.name));
  });

  it('holds "platforms" to the pattern parsePlatform reads', () => {
    const schema = JSON.parse(readFileSync(assetSchemaPath(), 'utf8'));
    expect(new RegExp(schema.properties.platforms.items.pattern).source).toBe(PLATFORM_PATTERN.source);
  });
});

describe('jsonErrorOffset', () => {
  it.each<[string, number | undefined]>([
    ['{"a": [1, 2.5e3, true, false, null, "x\\u00e9"]}', undefined],
    ['{"a": [}', 7],
    ['{"a": 1,}', 8],
    ['{"a" 1}', 5],
    ['{"a": 01}', 7],
    ['{"a": "x', 8],
    ['{"a": tru}', 9],
    ['{} x', 3],
    ['', 0],
  ])('%j → %s', (text, offset) => {
    expect(jsonErrorOffset(text)).toBe(offset);
    if (offset === undefined) expect(() => JSON.parse(text)).not.toThrow();
    else expect(() => JSON.parse(text)).toThrow();
  });
});

describe('parseAssetManifest, tolerant mode', () => {
  it.each<[string, Record<string, unknown>]>([
    ['{"image":"asset/bert"}', { ok: true, image: 'asset/bert', tags: ['latest'] }],
    ['\ufeff{"image":"asset/bert","name":"bert","tags":["0.1"]}', { ok: true, name: 'bert', image: 'asset/bert', tags: ['0.1'] }],
    ['{"image":"asset/bert","tags":"oops"}', { ok: true, image: 'asset/bert', tags: ['latest'] }],
  ])('%s', (text, expected) => {
    expect(parseAssetManifest(text, 'asset.json', '.', { tolerant: true })).toMatchObject(expected);
  });

  it.each<[string, RegExp]>([
    ['{', /not valid JSON/],
    ['[]', /not a JSON object/],
    ['null', /not a JSON object/],
    ['{"name":"x"}', /"image" is missing/],
    ['{"image":"Asset/Bert"}', /lowercase/],
  ])('rejects %s', (text, reason) => {
    const result = parseAssetManifest(text, 'asset.json', '.', { tolerant: true });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toMatch(reason);
  });

  it('keeps the name of a manifest whose image is unusable', () => {
    expect(parseAssetManifest('{"name":"x","image":42}', 'asset.json', '.', { tolerant: true })).toMatchObject({
      ok: false,
      name: 'x',
      tags: ['latest'],
    });
  });
});
