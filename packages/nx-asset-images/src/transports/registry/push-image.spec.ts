import { afterEach, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, readFile, rm, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseImageReference } from '../../oci/image-reference';
import { pushImage } from './push-image';
import { DigestMismatchError } from '../../oci/digest';
import { RegistryAuthError, RegistryError } from './registry-errors';
import { ImmutableTagError } from './tag-guard';
import { credentialSecrets, ForeignCredentialsError } from './credentials';
import { resolveRegistryCredentials } from './docker-config';
import { assembleImageIndex } from '../../oci/image-index';
import { seededRandom, startFakeRegistry, type FakeRegistry } from './__fixtures__/fake-registry';
import { bytesLayer, makeImage, seededBytes } from './__fixtures__/test-image';

const fast = { attempts: 8, baseDelayMs: 1, maxDelayMs: 5 };
let registry: FakeRegistry | undefined;
let tempDir: string | undefined;
afterEach(async () => {
  await registry?.close();
  registry = undefined;
  if (tempDir) await rm(tempDir, { recursive: true, force: true });
  tempDir = undefined;
});
const noDockerConfig = async () => {
  tempDir = await mkdtemp(join(tmpdir(), 'nxai-push-'));
  return { configDir: tempDir, env: { PATH: process.env.PATH ?? '' } };
};
const ref = (r: FakeRegistry, repo: string, tag: string) => parseImageReference(`${r.host}/${repo}:${tag}`);

describe('pushImage against a fake registry', () => {
  it('uploads config and layers, then tags; a second push uploads nothing', async () => {
    registry = await startFakeRegistry();
    const image = makeImage([bytesLayer(seededBytes(300_000, 1)), bytesLayer(seededBytes(1000, 2))]);
    const dockerConfig = await noDockerConfig();
    const events: number[] = [];
    const result = await pushImage(image, [ref(registry, 'asset/bert', '0.1'), ref(registry, 'asset/bert', 'latest')], {
      dockerConfig,
      onProgress: (e) => events.push(e.bytes),
    });
    expect(result.manifestDigest).toBe(image.manifest.descriptor.digest);
    expect(result.uploaded.sort()).toEqual([image.config.descriptor.digest, ...image.layers.map((l) => l.descriptor.digest)].sort());
    expect(result.pushed).toEqual([`${registry.host}/asset/bert:0.1`, `${registry.host}/asset/bert:latest`]);
    expect(registry.manifests.get('asset/bert:0.1')?.equals(image.manifest.bytes)).toBe(true);
    expect(registry.manifests.get('asset/bert:latest')?.equals(image.manifest.bytes)).toBe(true);
    expect(events.at(-1)).toBeGreaterThan(0);
    // Manifest PUTs come after every blob PUT.
    const methods = registry.requests.map((r) => `${r.method} ${r.url.split('?')[0]!.split('/')[4]}`);
    expect(methods.lastIndexOf('PUT uploads')).toBeLessThan(methods.indexOf('PUT manifests'));
    const putManifest = registry.requests.find((r) => r.method === 'PUT' && r.url.includes('/manifests/'));
    expect(putManifest?.headers['content-type']).toBe('application/vnd.oci.image.manifest.v1+json');

    const again = await pushImage(image, [ref(registry, 'asset/bert', '0.1')], { dockerConfig });
    expect(again.uploaded).toEqual([]);
    expect(again.skipped).toHaveLength(3);
  });

  it('uploads in PATCH chunks with Content-Range when chunkSize is set', async () => {
    registry = await startFakeRegistry();
    const data = seededBytes(250_000, 3);
    const image = makeImage([bytesLayer(data)]);
    await pushImage(image, [ref(registry, 'a/b', 't')], { dockerConfig: await noDockerConfig(), chunkSize: 100_000 });
    const ranges = registry.requests.filter((r) => r.method === 'PATCH').map((r) => r.headers['content-range']);
    expect(ranges).toContain('0-99999');
    expect(ranges).toContain('100000-199999');
    expect(ranges).toContain('200000-249999');
    expect(registry.blobs.get(image.layers[0]!.descriptor.digest)?.equals(data)).toBe(true);
  });

  it('falls back to chunks when the registry answers 413, halving them until they fit, honouring OCI-Chunk-Min-Length', async () => {
    registry = await startFakeRegistry({ maxBodySize: 3 * 1024 * 1024, chunkMinLength: 1024 * 1024 });
    const data = seededBytes(7 * 1024 * 1024, 4);
    const image = makeImage([bytesLayer(data, { chunk: 256 * 1024 })]);
    const result = await pushImage(image, [ref(registry, 'a/big', 't')], { dockerConfig: await noDockerConfig() });
    expect(result.uploaded).toContain(image.layers[0]!.descriptor.digest);
    expect(registry.requests.some((r) => r.method === 'PUT' && r.status === 413)).toBe(true);
    const accepted = registry.requests
      .filter((r) => r.method === 'PATCH' && r.status === 202)
      .map((r) => Number(r.headers['content-length']));
    expect(accepted.length).toBeGreaterThan(2);
    expect(Math.max(...accepted)).toBeLessThanOrEqual(3 * 1024 * 1024);
    expect(Math.max(...accepted)).toBeGreaterThanOrEqual(1024 * 1024);
    expect(registry.blobs.get(image.layers[0]!.descriptor.digest)?.equals(data)).toBe(true);
  });

  it('mounts a shared layer from another repository', async () => {
    registry = await startFakeRegistry();
    const shared = bytesLayer(seededBytes(10_000, 5));
    const dockerConfig = await noDockerConfig();
    await pushImage(makeImage([shared], 'one'), [ref(registry, 'asset/one', 'v1')], { dockerConfig });
    const second = makeImage([shared, bytesLayer(seededBytes(5000, 6))], 'two');
    const result = await pushImage(second, [ref(registry, 'asset/two', 'v1')], { dockerConfig, mountFrom: ['asset/one'] });
    expect(result.mounted).toEqual([shared.descriptor.digest]);
    expect(result.uploaded).toHaveLength(2);
    expect(
      registry.requests.some(
        (r) =>
          r.url.includes(`mount=${encodeURIComponent(shared.descriptor.digest)}`) || r.url.includes(`mount=${shared.descriptor.digest}`),
      ),
    ).toBe(true);
  });

  it('refuses to send a layer whose bytes do not match its digest, and tags nothing', async () => {
    registry = await startFakeRegistry();
    const good = seededBytes(50_000, 7);
    const bad = Buffer.from(good);
    bad[49_999] ^= 1;
    const image = makeImage([bytesLayer(good, { lie: bad })]);
    await expect(
      pushImage(image, [ref(registry, 'a/b', 't')], { dockerConfig: await noDockerConfig(), retry: fast }),
    ).rejects.toBeInstanceOf(DigestMismatchError);
    expect(registry.manifests.size).toBe(0);
    expect(registry.blobs.has(image.layers[0]!.descriptor.digest)).toBe(false);
  });

  it.each([
    ['monolithic', undefined],
    ['chunked', 40_000],
  ])('completes through seeded drops, 500s and 429s (%s), resuming uploads', async (_name, chunkSize) => {
    const random = seededRandom(42);
    registry = await startFakeRegistry({
      fault: (req) => {
        const r = random();
        if (req.method === 'PUT' && req.url?.includes('/manifests/')) return r < 0.3 ? 500 : undefined;
        if (r < 0.15) return 'drop';
        if (r < 0.3) return 'drop-mid-body';
        if (r < 0.4) return 500;
        if (r < 0.45) return 429;
        return undefined;
      },
    });
    const image = makeImage([bytesLayer(seededBytes(200_000, 8)), bytesLayer(seededBytes(120_000, 9))]);
    const result = await pushImage(image, [ref(registry, 'a/flaky', 't')], {
      dockerConfig: await noDockerConfig(),
      retry: { attempts: 30, baseDelayMs: 1, maxDelayMs: 5 },
      ...(chunkSize ? { chunkSize } : {}),
    });
    expect(result.manifestDigest).toBe(image.manifest.descriptor.digest);
    for (const layer of image.layers) expect(registry.repos.get('a/flaky')?.has(layer.descriptor.digest)).toBe(true);
    // Some attempt asked the registry how far the upload got, then continued from a non-zero offset.
    const statusChecks = registry.requests.filter((r) => r.method === 'GET' && r.url.includes('/blobs/uploads/'));
    expect(statusChecks.length).toBeGreaterThan(0);
    const resumed = registry.requests.filter((r) => r.method === 'PATCH' && !String(r.headers['content-range'] ?? '0-').startsWith('0-'));
    expect(resumed.length).toBeGreaterThan(0);
  });

  it('fails with a RegistryError after bounded attempts when the registry keeps failing, tagging nothing', async () => {
    registry = await startFakeRegistry({ fault: (req) => (req.method === 'PUT' ? 500 : undefined) });
    const image = makeImage([bytesLayer(seededBytes(1000, 10))]);
    const error = await pushImage(image, [ref(registry, 'a/b', 't')], {
      dockerConfig: await noDockerConfig(),
      retry: { attempts: 3, baseDelayMs: 1 },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistryError);
    expect((error as RegistryError).status).toBe(500);
    expect((error as RegistryError).method).toBe('PUT');
    expect((error as RegistryError).url).not.toMatch(/_state=[^R]/);
    expect(registry.manifests.size).toBe(0);
  });

  it('honours Retry-After on 429: the retry waits for it (up to maxRetryAfterMs), not for the short backoff', async () => {
    // Retry-After: 1 asks for 1000 ms; maxRetryAfterMs caps the wait at 250 ms, so the test does not sleep a second.
    // Without the header the retry would come after the backoff of `fast`, at most 5 ms.
    const cappedMs = 250;
    const heads: { url: string; at: number; limited: boolean }[] = [];
    registry = await startFakeRegistry({
      retryAfter: '1',
      fault: (req) => {
        const limited = req.method === 'HEAD' && heads.length === 0;
        if (req.method === 'HEAD') heads.push({ url: req.url ?? '', at: performance.now(), limited });
        return limited ? 429 : undefined;
      },
    });
    const image = makeImage([bytesLayer(seededBytes(10, 11))]);
    const result = await pushImage(image, [ref(registry, 'a/b', 't')], {
      dockerConfig: await noDockerConfig(),
      retry: { ...fast, maxRetryAfterMs: cappedMs },
    });
    expect(result.uploaded).toHaveLength(2);
    const limited = registry.requests.find((r) => r.status === 429);
    expect(limited?.method).toBe('HEAD');
    const first = heads.find((h) => h.limited)!;
    const retried = heads.find((h) => !h.limited && h.url === first.url);
    expect(retried).toBeDefined();
    // 1 ms of slack for timer granularity (setTimeout may fire a hair early against performance.now()).
    expect(retried!.at - first.at).toBeGreaterThanOrEqual(cappedMs - 1);
  });
});

describe('pushImage of a multi-platform index', () => {
  it('uploads the shared layers once and every config, puts each platform manifest by digest, then the index under its tags', async () => {
    registry = await startFakeRegistry();
    const dockerConfig = await noDockerConfig();
    const layers = [bytesLayer(seededBytes(200_000, 7)), bytesLayer(seededBytes(900, 8))];
    const index = assembleImageIndex({
      layers,
      platforms: [
        { os: 'linux', architecture: 'amd64' },
        { os: 'linux', architecture: 'arm64' },
      ],
    });
    const result = await pushImage(index, [ref(registry, 'asset/multi', '0.1')], { dockerConfig, tagPolicy: { mutable: ['latest'] } });
    expect(result.manifestDigest).toBe(index.index.descriptor.digest);
    const configs = index.images.map((i) => i.image.config.descriptor.digest);
    expect(result.uploaded.sort()).toEqual([...configs, ...layers.map((l) => l.descriptor.digest)].sort());
    // Each layer went up once.
    const layerPuts = registry.requests.filter(
      (r) => r.method === 'PUT' && r.url.includes('/blobs/uploads/') && decodeURIComponent(r.url).includes(layers[0]!.descriptor.digest),
    );
    expect(layerPuts).toHaveLength(1);
    expect(registry.manifests.get('asset/multi:0.1')?.equals(index.index.bytes)).toBe(true);
    for (const { image } of index.images) {
      expect(registry.manifests.get(`asset/multi@${image.manifest.descriptor.digest}`)?.equals(image.manifest.bytes)).toBe(true);
    }
    const puts = registry.requests
      .filter((r) => r.method === 'PUT' && r.url.includes('/manifests/'))
      .map((r) => r.url.split('/manifests/')[1]);
    expect(puts).toEqual([...index.images.map((i) => i.image.manifest.descriptor.digest), '0.1']);
    const again = await pushImage(index, [ref(registry, 'asset/multi', '0.1')], { dockerConfig, tagPolicy: { mutable: ['latest'] } });
    expect(again.uploaded).toEqual([]);
    expect(again.moved).toEqual([]);
  });
});

describe('pushImage: version tags never move', () => {
  const seed = async () => {
    registry = await startFakeRegistry();
    const dockerConfig = await noDockerConfig();
    const first = makeImage([bytesLayer(seededBytes(5000, 1))], 'first');
    await pushImage(first, [ref(registry, 'asset/bert', '0.1'), ref(registry, 'asset/bert', 'latest')], { dockerConfig });
    const second = makeImage([bytesLayer(seededBytes(5000, 2))], 'second');
    return { dockerConfig, first, second, r: registry };
  };
  const policy = { mutable: ['latest'] };

  it('a version tag that names other content fails the push before anything is written', async () => {
    const { dockerConfig, first, second, r } = await seed();
    const before = r.requests.length;
    const error = await pushImage(second, [ref(r, 'asset/bert', '0.1'), ref(r, 'asset/bert', 'latest')], {
      dockerConfig,
      tagPolicy: policy,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ImmutableTagError);
    expect(error).toMatchObject({
      conflicts: [{ tag: '0.1', held: first.manifest.descriptor.digest }],
      next: second.manifest.descriptor.digest,
    });
    expect((error as Error).message).toContain(`asset/bert:0.1 names ${first.manifest.descriptor.digest}`);
    // Only reads: no upload, no manifest, and both tags still name the first image.
    expect(r.requests.slice(before).every((q) => q.method === 'HEAD' || q.method === 'GET')).toBe(true);
    expect(r.manifests.get('asset/bert:0.1')?.equals(first.manifest.bytes)).toBe(true);
    expect(r.manifests.get('asset/bert:latest')?.equals(first.manifest.bytes)).toBe(true);
  });

  it.each<[string, string[], boolean, string[]]>([
    ['a new version tag, and latest moves', ['0.2', 'latest'], false, ['latest']],
    ['force moves a version tag and says so', ['0.1', 'latest'], true, ['0.1', 'latest']],
  ])('%s', async (_name, tags, force, moved) => {
    const { dockerConfig, first, second, r } = await seed();
    const result = await pushImage(
      second,
      tags.map((t) => ref(r, 'asset/bert', t)),
      { dockerConfig, tagPolicy: { ...policy, force } },
    );
    expect(result.moved).toEqual(moved.map((tag) => ({ tag, from: first.manifest.descriptor.digest })));
    for (const tag of tags) expect(r.manifests.get(`asset/bert:${tag}`)?.equals(second.manifest.bytes)).toBe(true);
  });

  it('pushing the same content again is no move', async () => {
    const { dockerConfig, first, r } = await seed();
    const result = await pushImage(first, [ref(r, 'asset/bert', '0.1')], { dockerConfig, tagPolicy: policy });
    expect(result.moved).toEqual([]);
  });
});

describe('pushImage authentication', () => {
  it('basic: sends credentials from config.json auths', async () => {
    registry = await startFakeRegistry({ auth: { scheme: 'basic', user: 'alice', password: 's3cret-basic' } });
    const dockerConfig = await noDockerConfig();
    await writeFile(
      join(dockerConfig.configDir, 'config.json'),
      JSON.stringify({ auths: { [`http://${registry.host}`]: { auth: Buffer.from('alice:s3cret-basic').toString('base64') } } }),
    );
    const image = makeImage([bytesLayer(seededBytes(1000, 12))]);
    const result = await pushImage(image, [ref(registry, 'a/b', 't')], { dockerConfig });
    expect(result.pushed).toHaveLength(1);
    const put = registry.requests.find((r) => r.method === 'PUT');
    expect(put?.headers.authorization).toBe(`Basic ${Buffer.from('alice:s3cret-basic').toString('base64')}`);
  });

  it('bearer: fetches a token with basic creds and the repository scope, and caches it', async () => {
    registry = await startFakeRegistry({ auth: { scheme: 'bearer', user: 'alice', password: 'pw-bearer' } });
    const image = makeImage([bytesLayer(seededBytes(1000, 13)), bytesLayer(seededBytes(1000, 14))]);
    await pushImage(image, [ref(registry, 'asset/x', 't')], { credentials: { username: 'alice', password: 'pw-bearer' } });
    expect(registry.tokenRequests.length).toBeGreaterThanOrEqual(1);
    expect(registry.tokenRequests.length).toBeLessThanOrEqual(2);
    const tokenUrl = new URL(registry.tokenRequests[0]!.url, registry.url);
    expect(tokenUrl.searchParams.get('service')).toBe('fake-registry');
    expect(tokenUrl.searchParams.getAll('scope')).toEqual(['repository:asset/x:pull,push']);
    expect(registry.requests.filter((r) => r.method === 'PUT').every((r) => String(r.headers.authorization).startsWith('Bearer '))).toBe(
      true,
    );
  });

  it('bearer: a token that expires in the middle of a chunked upload is renewed and the upload resumes', async () => {
    registry = await startFakeRegistry({ auth: { scheme: 'bearer', user: 'alice', password: 'pw', tokenUses: 4 } });
    const data = seededBytes(300_000, 15);
    const image = makeImage([bytesLayer(data)]);
    const result = await pushImage(image, [ref(registry, 'a/exp', 't')], {
      credentials: { username: 'alice', password: 'pw' },
      chunkSize: 50_000,
      retry: fast,
    });
    expect(result.manifestDigest).toBe(image.manifest.descriptor.digest);
    expect(registry.tokenRequests.length).toBeGreaterThan(2);
    expect(registry.requests.some((r) => r.status === 401 && r.method === 'PATCH')).toBe(true);
    expect(registry.blobs.get(image.layers[0]!.descriptor.digest)?.equals(data)).toBe(true);
  });

  it('wrong password: RegistryAuthError names the registry and user, never the password', async () => {
    registry = await startFakeRegistry({ auth: { scheme: 'bearer', user: 'alice', password: 'right' } });
    const image = makeImage([bytesLayer(seededBytes(100, 16))]);
    const error = await pushImage(image, [ref(registry, 'a/b', 't')], {
      credentials: { username: 'alice', password: 'hunter2-wrong' },
      retry: fast,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistryAuthError);
    const message = (error as Error).message;
    expect(message).toContain(`authentication to ${registry.host} failed for user "alice"`);
    expect(message).not.toContain('hunter2');
    expect(JSON.stringify(error)).not.toContain('hunter2');
    expect(String((error as Error).stack)).not.toContain('hunter2');
  });

  it('credential helper: docker-credential-<name> get on PATH gives the credentials', async () => {
    registry = await startFakeRegistry({ auth: { scheme: 'basic', user: 'helper-user', password: 'helper-secret' } });
    const dockerConfig = await noDockerConfig();
    const bin = join(dockerConfig.configDir, 'bin');
    await writeFile(join(dockerConfig.configDir, 'config.json'), JSON.stringify({ credHelpers: { [registry.host]: 'test' } }));
    const { mkdir } = await import('node:fs/promises');
    await mkdir(bin);
    const script = join(bin, 'docker-credential-test');
    await writeFile(
      script,
      `#!/bin/sh\nread host\necho "$host" > "${join(dockerConfig.configDir, 'asked')}"\nif [ "$host" = "${registry.host}" ]; then printf '{"ServerURL":"%s","Username":"helper-user","Secret":"helper-secret"}' "$host"; else echo "credentials not found in native keychain"; exit 1; fi\n`,
    );
    await chmod(script, 0o755);
    const image = makeImage([bytesLayer(seededBytes(100, 17))]);
    await pushImage(image, [ref(registry, 'a/b', 't')], {
      dockerConfig: { configDir: dockerConfig.configDir, env: { PATH: `${bin}:${process.env.PATH}` } },
    });
    const { readFile } = await import('node:fs/promises');
    expect((await readFile(join(dockerConfig.configDir, 'asked'), 'utf8')).trim()).toBe(registry.host);
    expect(registry.manifests.has('a/b:t')).toBe(true);
  });
});

describe('pushImage with credentials read once (resolveRegistryCredentials)', () => {
  /** A Docker config whose credential helper counts its calls and knows `known` (user and secret) for the fake registry. */
  async function countingHelper(known?: { user: string; secret: string }) {
    const dockerConfig = await noDockerConfig();
    const bin = join(dockerConfig.configDir, 'bin');
    await mkdir(bin);
    await writeFile(join(dockerConfig.configDir, 'config.json'), JSON.stringify({ credHelpers: { [registry!.host]: 'count' } }));
    const answer = known
      ? `printf '{"ServerURL":"%s","Username":"${known.user}","Secret":"${known.secret}"}' "$host"`
      : 'echo "credentials not found in native keychain"; exit 1';
    const script = join(bin, 'docker-credential-count');
    await writeFile(script, `#!/bin/sh\nread host\necho "$host" >> "${join(dockerConfig.configDir, 'asked')}"\n${answer}\n`);
    await chmod(script, 0o755);
    const options = { configDir: dockerConfig.configDir, env: { PATH: `${bin}:${process.env.PATH}` } };
    const asked = async () => (await readFile(join(dockerConfig.configDir, 'asked'), 'utf8')).trim().split('\n').length;
    return { options, asked };
  }

  it('the session gets the credentials read for its registry; Docker config is not read again', async () => {
    registry = await startFakeRegistry({ auth: { scheme: 'basic', user: 'helper-user', password: 'helper-secret' } });
    const { options, asked } = await countingHelper({ user: 'helper-user', secret: 'helper-secret' });
    const resolved = await resolveRegistryCredentials(registry.host, options);
    expect(resolved).toEqual({ registry: registry.host, credentials: { username: 'helper-user', password: 'helper-secret' } });
    expect(credentialSecrets(resolved.credentials)).toEqual(['helper-secret', Buffer.from('helper-user:helper-secret').toString('base64')]);
    await pushImage(makeImage([bytesLayer(seededBytes(100, 18))]), [ref(registry, 'a/b', 't')], {
      credentials: resolved,
      dockerConfig: options,
    });
    expect(await asked()).toBe(1);
    expect(registry.manifests.has('a/b:t')).toBe(true);
  });

  it('none read (anonymous) stays anonymous: Docker config is not read again', async () => {
    registry = await startFakeRegistry();
    const { options, asked } = await countingHelper();
    const resolved = await resolveRegistryCredentials(registry.host, options);
    expect(resolved).toEqual({ registry: registry.host, credentials: undefined });
    expect(credentialSecrets(resolved.credentials)).toEqual([]);
    await pushImage(makeImage([bytesLayer(seededBytes(100, 19))]), [ref(registry, 'a/b', 't')], {
      credentials: resolved,
      dockerConfig: options,
    });
    expect(await asked()).toBe(1);
    expect(registry.requests.some((r) => r.headers.authorization !== undefined)).toBe(false);
  });

  it('credentials read for another registry are refused before any request', async () => {
    registry = await startFakeRegistry();
    const other = { registry: 'other.example:5000', credentials: { username: 'alice', password: 'pw-other' } };
    const error = await pushImage(makeImage([bytesLayer(seededBytes(100, 20))]), [ref(registry, 'a/b', 't')], {
      credentials: other,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ForeignCredentialsError);
    expect(error).toMatchObject({ resolvedFor: 'other.example:5000', registry: registry.host });
    expect(registry.requests).toEqual([]);
  });
});
