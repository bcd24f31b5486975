import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { assembleImage } from './assemble-image';
import { canonicalJson } from './canonical-json';
import { DigestingPassThrough, digestHex, isDigest, sha256Digest } from './digest';
import type { Digest, Layer } from './image';
import { createImageConfig } from './image-config';
import { createManifest } from './manifest';
import { ANNOTATION_REF_NAME, createOciIndex, findIndexEntry, indexEntriesFor, mergeIndex } from './oci-index';

const hex = (s: string | Buffer) => createHash('sha256').update(s).digest('hex');
const D1 = `sha256:${'1'.repeat(64)}` as Digest;
const D2 = `sha256:${'2'.repeat(64)}` as Digest;

describe('digest', () => {
  it('hashes bytes and strings', () => {
    expect(sha256Digest('')).toBe('sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(sha256Digest(Buffer.from('abc'))).toBe(`sha256:${hex('abc')}`);
  });
  it.each([
    [D1, true],
    [`sha256:${'A'.repeat(64)}`, false],
    [`sha256:${'1'.repeat(63)}`, false],
    [`sha512:${'1'.repeat(64)}`, false],
    [42, false],
  ])('isDigest(%j) = %s', (value, expected) => expect(isDigest(value)).toBe(expected));
  it('digestHex strips the algorithm and rejects non-digests', () => {
    expect(digestHex(D1)).toBe('1'.repeat(64));
    expect(() => digestHex('sha256:nope' as Digest)).toThrow(/Not a sha256 digest/);
  });
  it('DigestingPassThrough counts and hashes while piping', async () => {
    const hasher = new DigestingPassThrough();
    const out: Buffer[] = [];
    await pipeline(Readable.from([Buffer.from('hello '), Buffer.from('world')]), hasher, async (source) => {
      for await (const chunk of source) out.push(chunk as Buffer);
    });
    expect(Buffer.concat(out).toString()).toBe('hello world');
    expect(hasher.size).toBe(11);
    expect(hasher.digest()).toBe(`sha256:${hex('hello world')}`);
  });
});

describe('canonicalJson', () => {
  it('sorts keys recursively, drops undefined, no whitespace', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: null, y: 'x' }], c: undefined } }).toString()).toBe(
      '{"a":{"d":[1,{"y":"x","z":null}]},"b":1}',
    );
  });
  it('gives the same bytes for differently ordered inputs', () => {
    expect(canonicalJson({ x: 1, y: 2 }).equals(canonicalJson({ y: 2, x: 1 }))).toBe(true);
  });
  it('rejects non-finite numbers', () => expect(() => canonicalJson({ n: Number.NaN })).toThrow(TypeError));
});

describe('createImageConfig', () => {
  it('fixes created, sets platform, rootfs and one history entry per layer', () => {
    expect(createImageConfig({ diffIds: [D1, D2], labels: { a: 'b' } })).toEqual({
      created: '1970-01-01T00:00:00Z',
      architecture: 'amd64',
      os: 'linux',
      config: { Labels: { a: 'b' } },
      rootfs: { type: 'layers', diff_ids: [D1, D2] },
      history: [
        { created: '1970-01-01T00:00:00Z', created_by: 'nx-asset-images' },
        { created: '1970-01-01T00:00:00Z', created_by: 'nx-asset-images' },
      ],
    });
  });
  it('honours overrides', () => {
    const config = createImageConfig({ diffIds: [], created: '2024-01-01T00:00:00Z', architecture: 'arm64', os: 'linux', env: ['A=1'] });
    expect(config).toMatchObject({ created: '2024-01-01T00:00:00Z', architecture: 'arm64', config: { Env: ['A=1'] }, history: [] });
  });
});

describe('createManifest', () => {
  it('is an OCI manifest with schemaVersion 2', () => {
    const config = { mediaType: 'application/vnd.oci.image.config.v1+json', digest: D1, size: 10 };
    expect(createManifest({ config, layers: [], annotations: { k: 'v' } })).toEqual({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config,
      layers: [],
      annotations: { k: 'v' },
    });
  });
});

describe('assembleImage', () => {
  it('produces config and manifest blobs whose digests match hand-assembled JSON', () => {
    const tar = Buffer.from('pretend this is a tar');
    const layerDigest = `sha256:${hex(tar)}` as Digest;
    const layer: Layer = {
      descriptor: { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layerDigest, size: tar.length },
      diffId: layerDigest,
      open: () => Readable.from([tar]),
    };
    const image = assembleImage({
      layers: [layer],
      configOptions: { labels: { 'org.example': 'x' } },
      annotations: { 'org.opencontainers.image.title': 't' },
    });

    const configText =
      `{"architecture":"amd64","config":{"Labels":{"org.example":"x"}},"created":"1970-01-01T00:00:00Z",` +
      `"history":[{"created":"1970-01-01T00:00:00Z","created_by":"nx-asset-images"}],"os":"linux",` +
      `"rootfs":{"diff_ids":["${layerDigest}"],"type":"layers"}}`;
    expect(image.config.bytes.toString()).toBe(configText);
    expect(image.config.descriptor).toEqual({
      mediaType: 'application/vnd.oci.image.config.v1+json',
      digest: `sha256:${hex(configText)}`,
      size: configText.length,
    });

    const manifestText =
      `{"annotations":{"org.opencontainers.image.title":"t"},` +
      `"config":{"digest":"sha256:${hex(configText)}","mediaType":"application/vnd.oci.image.config.v1+json","size":${configText.length}},` +
      `"layers":[{"digest":"${layerDigest}","mediaType":"application/vnd.oci.image.layer.v1.tar","size":${tar.length}}],` +
      `"mediaType":"application/vnd.oci.image.manifest.v1+json","schemaVersion":2}`;
    expect(image.manifest.bytes.toString()).toBe(manifestText);
    expect(image.manifest.descriptor.digest).toBe(`sha256:${hex(manifestText)}`);
    expect(image.layers).toEqual([layer]);
  });
});

describe('oci index', () => {
  const m1 = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: D1, size: 1 };
  const m2 = { ...m1, digest: D2 };
  it('names entries with org.opencontainers.image.ref.name', () => {
    expect(indexEntriesFor(m1, ['v1', 'latest', 'v1'])).toEqual([
      { ...m1, annotations: { [ANNOTATION_REF_NAME]: 'v1' } },
      { ...m1, annotations: { [ANNOTATION_REF_NAME]: 'latest' } },
    ]);
    expect(indexEntriesFor(m1, [])).toEqual([m1]);
  });
  it('merge replaces entries with the same ref name and keeps others', () => {
    const first = mergeIndex(undefined, [...indexEntriesFor(m1, ['v1', 'latest']), ...indexEntriesFor(m1, [])]);
    const second = mergeIndex(first, [...indexEntriesFor(m2, ['latest']), ...indexEntriesFor(m1, [])]);
    expect(second.manifests.map((m) => `${m.annotations?.[ANNOTATION_REF_NAME] ?? '-'}=${m.digest.slice(7, 8)}`)).toEqual([
      'v1=1',
      'latest=2',
      '-=1',
    ]);
    expect(findIndexEntry(second, 'latest')?.digest).toBe(D2);
    expect(findIndexEntry(second, D1)?.digest).toBe(D1);
    expect(findIndexEntry(second, 'nope')).toBeUndefined();
    expect(createOciIndex()).toEqual({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [] });
  });
});
