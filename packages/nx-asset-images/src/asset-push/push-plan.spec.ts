import { describe, expect, it } from 'vitest';
import type { AssetImageResult } from '../asset/asset-image-result';
import type { Digest } from '../oci/image';
import { formatImageReference, parseImageReference } from '../oci/image-reference';
import {
  nextVersion,
  AssetPushOptionsError,
  blobLabels,
  defaultMountSources,
  explicitMountSources,
  MAX_DEFAULT_MOUNT_SOURCES,
  normalizePushOptions,
  pushReferences,
  pushSummaryLines,
  scrubSecrets,
} from './push-plan';

const d = (c: string): Digest => `sha256:${c.repeat(64)}` as Digest;

function result(overrides: Partial<AssetImageResult> = {}): AssetImageResult {
  return {
    version: 1,
    project: 'models-bert',
    image: 'localhost:5000/asset/bert',
    manifestDigest: d('a'),
    configDigest: d('c'),
    tags: ['0.1', 'sha256-aaaaaaaaaaaaaaaaaaaa'],
    contentTag: 'sha256-aaaaaaaaaaaaaaaaaaaa',
    references: [],
    size: 10,
    layers: [
      { digest: d('1'), diffId: d('1'), size: 5, mediaType: 'x', files: ['/model.bin'] },
      { digest: d('2'), diffId: d('2'), size: 5, mediaType: 'x', files: ['/a.txt', '/b.txt'] },
    ],
    ...overrides,
  };
}

describe('normalizePushOptions', () => {
  it('merges insecure registries from the option and the environment, deduplicated', () => {
    const n = normalizePushOptions(
      { insecureRegistries: ['reg.lan:5000', ' '] },
      { NX_ASSET_IMAGES_INSECURE_REGISTRIES: 'reg.lan:5000, other:80,' },
    );
    expect(n.insecureRegistries).toEqual(['reg.lan:5000', 'other:80']);
    expect(n.concurrency).toBe(3);
    expect(n.chunkSize).toBeUndefined();
    expect(n.tags).toBeUndefined();
  });

  it.each([
    [{ concurrency: 0 }, 'concurrency'],
    [{ concurrency: 1.5 }, 'concurrency'],
    [{ chunkSize: -1 }, 'chunkSize'],
    [{ tags: [] }, 'tags'],
    [{ insecureRegistries: ['http://reg:5000'] }, 'insecureRegistries'],
  ])('rejects %j naming %s', (options, option) => {
    const error = (() => {
      try {
        normalizePushOptions(options, {});
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(AssetPushOptionsError);
    expect((error as AssetPushOptionsError).option).toBe(option);
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['mutableTags not a list', { mutableTags: 'latest' }, 'mutableTags'],
    ['mutableTags with a number', { mutableTags: ['latest', 1] }, 'mutableTags'],
    ['force not a boolean', { force: 'yes' }, 'force'],
  ])('rejects %s, naming the option', (_name, options, option) => {
    expect(() => normalizePushOptions(options as never, {})).toThrow(`asset-push: option "${option}"`);
  });

  it('mutableTags and force as given', () => {
    expect(normalizePushOptions({ mutableTags: ['latest', 'stable'], force: true }, {})).toMatchObject({
      mutableTags: ['latest', 'stable'],
      force: true,
    });
  });

  it('keeps valid numbers and deduplicates tags', () => {
    expect(normalizePushOptions({ concurrency: 5, chunkSize: 1024, tags: ['a', 'a', 'b'] }, {})).toEqual({
      insecureRegistries: [],
      mutableTags: ['latest'],
      force: false,
      concurrency: 5,
      chunkSize: 1024,
      tags: ['a', 'b'],
    });
  });
});

describe('pushReferences', () => {
  it('defaults to every tag, the content tag included, on the image repository', () => {
    expect(pushReferences(result()).map(formatImageReference)).toEqual([
      'localhost:5000/asset/bert:0.1',
      'localhost:5000/asset/bert:sha256-aaaaaaaaaaaaaaaaaaaa',
    ]);
  });

  it('normalises an image without registry to docker.io', () => {
    expect(pushReferences(result({ image: 'bert' }), ['0.1']).map(formatImageReference)).toEqual(['docker.io/library/bert:0.1']);
  });

  it('pushes a chosen subset', () => {
    expect(pushReferences(result(), ['sha256-aaaaaaaaaaaaaaaaaaaa']).map((r) => r.tag)).toEqual(['sha256-aaaaaaaaaaaaaaaaaaaa']);
  });

  it('refuses a tag the build did not give the image', () => {
    expect(() => pushReferences(result(), ['0.2'])).toThrow(/"0\.2" not among the built image's tags \(0\.1, sha256-a+\)/);
  });
});

describe('mount sources', () => {
  const target = parseImageReference('localhost:5000/asset/bert');

  it.each([
    [['asset/gpt'], ['asset/gpt']],
    [['localhost:5000/asset/gpt:1'], ['asset/gpt']],
    [['asset/gpt@' + d('1')], ['asset/gpt']],
    [['asset/bert', 'asset/gpt', 'asset/gpt'], ['asset/gpt']],
  ])('explicit %j -> %j', (entries, expected) => {
    expect(explicitMountSources(target, entries)).toEqual(expected);
  });

  it('refuses a repository on another registry', () => {
    expect(() => explicitMountSources(target, ['reg.example.com/asset/gpt'])).toThrow(/on reg\.example\.com, not on localhost:5000/);
  });

  it('defaults to other assets on the same registry, sharing ones first, non-sharing ones left out', () => {
    const sources = defaultMountSources(
      target,
      [d('1'), d('2')],
      [
        { reference: parseImageReference('localhost:5000/asset/unknown') },
        { reference: parseImageReference('localhost:5000/asset/nothing-shared'), layers: [d('9')] },
        { reference: parseImageReference('localhost:5000/asset/shares'), layers: [d('2')] },
        { reference: parseImageReference('localhost:5000/asset/bert'), layers: [d('1')] },
        { reference: parseImageReference('elsewhere.io/asset/shares'), layers: [d('1')] },
      ],
    );
    expect(sources).toEqual(['asset/shares', 'asset/unknown']);
  });

  it('tries at most a few repositories', () => {
    const many = Array.from({ length: 20 }, (_, i) => ({ reference: parseImageReference(`localhost:5000/asset/a${i}`) }));
    expect(defaultMountSources(target, [], many)).toHaveLength(MAX_DEFAULT_MOUNT_SOURCES);
  });
});

describe('reporting', () => {
  it('labels blobs by what they hold', () => {
    const labels = blobLabels(result());
    expect(labels.get(d('1'))).toBe(`layer sha256:111111111111 (/model.bin)`);
    expect(labels.get(d('2'))).toBe(`layer sha256:222222222222 (2 files)`);
    expect(labels.get(d('c'))).toBe(`config sha256:cccccccccccc`);
  });

  it('prints the manifest digest, every reference with it, and the counts', () => {
    const refs = pushReferences(result());
    const lines = pushSummaryLines(
      { manifestDigest: d('a'), pushed: [], uploaded: [d('1')], skipped: [d('c')], mounted: [d('2')], moved: [] },
      refs,
      3 * 1024 * 1024,
      1.234,
    );
    expect(lines[0]).toBe(`Pushed ${d('a')} in 1.23 s: 1 blob(s) uploaded (3.0 MiB), 1 skipped (already there), 1 mounted`);
    expect(lines.slice(1)).toEqual([
      `  localhost:5000/asset/bert:0.1@${d('a')}`,
      `  localhost:5000/asset/bert:sha256-aaaaaaaaaaaaaaaaaaaa@${d('a')}`,
    ]);
  });

  it('scrubs every known secret, and leaves short or missing ones alone', () => {
    expect(scrubSecrets('auth s3cr3t and czNjcjN0 for user', ['s3cr3t', 'czNjcjN0', undefined, 'us'])).toBe('auth *** and *** for user');
  });
});

describe('nextVersion', () => {
  it.each([
    ['0.1', '0.2'],
    ['1.9', '1.10'],
    ['v3', 'v4'],
    ['2024-06-01', '2024-06-2'],
    ['1.0.0-rc1', '1.0.0-rc2'],
    ['stable', 'stable-2'],
  ])('%s -> %s', (tag, next) => {
    expect(nextVersion(tag)).toBe(next);
  });
});
