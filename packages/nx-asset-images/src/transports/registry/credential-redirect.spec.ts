/**
 * Registry credentials never reach another host after a redirect: a registry
 * on loopback redirects blob reads to a second loopback server (blob storage)
 * which asks for credentials of its own. That server must see no Authorization
 * header and no token request, the push or pull must fail with an error naming
 * the registry and the storage host, and nothing secret may appear in any
 * error or log line. Storage that needs no auth (presigned URLs) keeps working.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { parseImageReference } from '../../oci/image-reference';
import { pushImage } from './push-image';
import { pullImageToLayout } from './pull-image';
import { blobExists } from './blob-exists';
import { getImageManifest } from './manifest-get';
import { ForeignAuthChallengeError } from './registry-errors';
import { resolveDockerCredentials, type DockerConfigFile } from './docker-config';
import { RegistrySession } from './registry-session';
import { startFakeRegistry, type FakeRegistry } from './__fixtures__/fake-registry';
import { startFakeStorage, type FakeStorage } from './__fixtures__/fake-storage';
import { bytesLayer, makeImage, seededBytes } from './__fixtures__/test-image';

const USER = 'alice';
const PASSWORD = 'pw-S3cret-do-not-print';
const BASIC = Buffer.from(`${USER}:${PASSWORD}`).toString('base64');
const IDENTITY_TOKEN = 'idtok-S3cret-refresh-token';
const fast = { attempts: 3, baseDelayMs: 1, maxDelayMs: 2 };

let registry: FakeRegistry | undefined;
let storage: FakeStorage | undefined;
let dir: string | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  await registry?.close();
  await storage?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
  registry = storage = dir = undefined;
});

async function dockerConfigWith(auths: DockerConfigFile['auths']) {
  dir = await mkdtemp(join(tmpdir(), 'nxai-redirect-'));
  await writeFile(join(dir, 'config.json'), JSON.stringify({ auths }));
  return { configDir: dir, env: { PATH: process.env.PATH ?? '' } };
}

/** Everything a user could see: console output and every rendering of the error (message, stack, fields, causes). */
function captureConsole(): string[] {
  const lines: string[] = [];
  for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    vi.spyOn(console, method).mockImplementation(
      (...args: unknown[]) => void lines.push(args.map((a) => (typeof a === 'string' ? a : inspect(a, { depth: 10 }))).join(' ')),
    );
  }
  return lines;
}

function renderings(error: unknown): string {
  const e = error as Error;
  return [String(e), e.message, e.stack ?? '', inspect(e, { depth: 10 }), JSON.stringify(e)].join('\n');
}

function expectNoSecret(text: string, secrets: readonly string[]) {
  for (const secret of secrets) expect(text).not.toContain(secret);
}

/** B saw requests, none with an Authorization header, and its token endpoint saw nothing. */
function expectStorageUntouchedByCredentials(s: FakeStorage) {
  expect(s.requests.length).toBeGreaterThan(0);
  expect(s.requests.map((r) => r.headers.authorization)).toEqual(s.requests.map(() => undefined));
  expect(s.tokenRequests).toEqual([]);
}

function expectForeignChallenge(error: unknown, r: FakeRegistry, s: FakeStorage, scheme: string) {
  expect(error).toBeInstanceOf(ForeignAuthChallengeError);
  expect(error).toMatchObject({
    name: 'ForeignAuthChallengeError',
    registry: r.host,
    redirectHost: s.host,
    redirectOrigin: s.url,
    challengeScheme: scheme,
    status: 401,
    downgrade: false,
  });
  const message = (error as Error).message;
  expect(message).toContain(`${r.host} redirected to ${s.url}, which answered 401 asking for ${scheme} credentials`);
  expect(message).toContain(`none were sent to ${s.host}`);
  expect(message).toContain('X-Amz-Signature=REDACTED');
}

/** Pushes a one-layer image (seeded bytes) to `r` and returns the error with everything a user could have seen of it: the error, every retry message, console output. */
async function pushExpectingFailure(
  r: FakeRegistry,
  dockerConfig: Awaited<ReturnType<typeof dockerConfigWith>>,
  seed: number,
): Promise<{ error: unknown; seen: string }> {
  const logs = captureConsole();
  const retries: string[] = [];
  const error = await pushImage(makeImage([bytesLayer(seededBytes(5000, seed))]), [parseImageReference(`${r.host}/asset/bert:1`)], {
    dockerConfig,
    retry: fast,
    onRetry: ({ error: e }) => retries.push(renderings(e)),
  }).catch((e: unknown) => e);
  return { error, seen: [renderings(error), ...retries, ...logs].join('\n') };
}

const redirectToStorage = (digest: string) => `${storage!.url}/bucket/${digest}?X-Amz-Signature=presigned-sig`;

describe('registry credentials and blob redirects to another host', () => {
  it('basic: storage that answers 401 Basic gets no Authorization header; the push fails naming registry and storage, no secret anywhere', async () => {
    storage = await startFakeStorage({ challenge: () => 'Basic realm="storage"' });
    registry = await startFakeRegistry({
      auth: { scheme: 'basic', user: USER, password: PASSWORD },
      blobRedirect: (_repo, digest) => redirectToStorage(digest),
    });
    const dockerConfig = await dockerConfigWith({ [registry.host]: { auth: BASIC } });
    const { error, seen } = await pushExpectingFailure(registry, dockerConfig, 1);

    expectForeignChallenge(error, registry, storage, 'basic');
    expectStorageUntouchedByCredentials(storage);
    // The registry itself did get (and accept) the credentials.
    expect(registry.requests.some((r) => r.method === 'HEAD' && r.headers.authorization === `Basic ${BASIC}` && r.status === 307)).toBe(
      true,
    );
    expect(registry.manifests.size).toBe(0);
    expectNoSecret(seen, [PASSWORD, BASIC]);
  });

  it('basic: a pull whose blob GET is redirected to storage that wants Basic fails the same way', async () => {
    let redirecting = false;
    storage = await startFakeStorage({ challenge: () => 'Basic realm="storage"' });
    registry = await startFakeRegistry({
      auth: { scheme: 'basic', user: USER, password: PASSWORD },
      blobRedirect: (_repo, digest) => (redirecting ? redirectToStorage(digest) : undefined),
    });
    const dockerConfig = await dockerConfigWith({ [registry.host]: { auth: BASIC } });
    const ref = parseImageReference(`${registry.host}/asset/bert:1`);
    await pushImage(makeImage([bytesLayer(seededBytes(5000, 2))]), [ref], { dockerConfig, retry: fast });
    redirecting = true;

    const error = await pullImageToLayout(ref, join(dir!, 'layout'), { dockerConfig, retry: fast }).catch((e: unknown) => e);

    expectForeignChallenge(error, registry, storage, 'basic');
    expectStorageUntouchedByCredentials(storage);
    expect(storage.requests.every((r) => r.method === 'GET')).toBe(true);
    expectNoSecret(renderings(error), [PASSWORD, BASIC]);
  });

  it("bearer: storage that answers 401 Bearer with its own realm gets no Authorization and its token endpoint no request; the registry's realm is used", async () => {
    storage = await startFakeStorage({ challenge: (base) => `Bearer realm="${base}/token",service="storage",scope="blob:read"` });
    registry = await startFakeRegistry({
      auth: { scheme: 'bearer', user: USER, password: PASSWORD },
      blobRedirect: (_repo, digest) => redirectToStorage(digest),
    });
    const dockerConfig = await dockerConfigWith({ [registry.host]: { auth: BASIC } });
    const { error, seen } = await pushExpectingFailure(registry, dockerConfig, 3);

    expectForeignChallenge(error, registry, storage, 'bearer');
    expectStorageUntouchedByCredentials(storage);
    expect(registry.tokenRequests.length).toBeGreaterThan(0);
    expect(registry.tokenRequests.every((r) => r.headers.authorization === `Basic ${BASIC}`)).toBe(true);
    expectNoSecret(seen, [PASSWORD, BASIC, ...registry.issuedTokens]);
  });

  it('identity token: exchanged only at the registry realm; storage with its own Bearer realm gets no Authorization and no token request', async () => {
    storage = await startFakeStorage({ challenge: (base) => `Bearer realm="${base}/token",service="storage"` });
    registry = await startFakeRegistry({
      auth: { scheme: 'bearer', user: USER, password: PASSWORD, identityToken: IDENTITY_TOKEN },
      blobRedirect: (_repo, digest) => redirectToStorage(digest),
    });
    const dockerConfig = await dockerConfigWith({ [registry.host]: { identitytoken: IDENTITY_TOKEN } });
    expect(await resolveDockerCredentials(registry.host, dockerConfig)).toEqual({ identityToken: IDENTITY_TOKEN });
    const { error, seen } = await pushExpectingFailure(registry, dockerConfig, 4);

    expectForeignChallenge(error, registry, storage, 'bearer');
    expectStorageUntouchedByCredentials(storage);
    expect(registry.tokenRequests.length).toBeGreaterThan(0);
    expect(registry.tokenRequests.every((r) => r.method === 'POST')).toBe(true);
    expect(storage.requests.every((r) => !JSON.stringify(r).includes(IDENTITY_TOKEN))).toBe(true);
    expectNoSecret(seen, [IDENTITY_TOKEN, ...registry.issuedTokens]);
  });

  it("a 401 from storage neither replaces the session's challenge nor its realm: the next registry request still authenticates at the registry", async () => {
    const redirected = new Set<string>();
    storage = await startFakeStorage({ challenge: (base) => `Bearer realm="${base}/token",service="storage"` });
    registry = await startFakeRegistry({
      auth: { scheme: 'bearer', user: USER, password: PASSWORD },
      blobRedirect: (_repo, digest) => (redirected.has(digest) ? redirectToStorage(digest) : undefined),
    });
    const image = makeImage([bytesLayer(seededBytes(5000, 5))]);
    await pushImage(image, [parseImageReference(`${registry.host}/asset/bert:1`)], {
      dockerConfig: await dockerConfigWith({ [registry.host]: { auth: BASIC } }),
      retry: fast,
    });
    const session = new RegistrySession({ registry: registry.host, credentials: { username: USER, password: PASSWORD }, retry: fast });
    try {
      const layer = image.layers[0]!.descriptor.digest;
      redirected.add(layer);
      expectForeignChallenge(await blobExists(session, 'asset/bert', layer).catch((e: unknown) => e), registry, storage, 'bearer');
      // Same session, requests the registry answers itself: a token from the registry's realm, never from storage's.
      expect(await blobExists(session, 'asset/bert', image.config.descriptor.digest)).toBe(true);
      expect(await blobExists(session, 'asset/bert', `sha256:${'0'.repeat(64)}`)).toBe(false);
      await expect(getImageManifest(session, parseImageReference(`${registry.host}/asset/bert:missing`))).rejects.toMatchObject({
        status: 404,
        code: 'MANIFEST_UNKNOWN',
      });
      for (const request of registry.requests.slice(-3)) {
        expect(request.headers.authorization).toMatch(/^Bearer /);
        expect(registry.issuedTokens).toContain(String(request.headers.authorization).slice('Bearer '.length));
      }
      expectStorageUntouchedByCredentials(storage);
    } finally {
      session.close();
    }
  });

  it('presigned: storage that needs no auth serves the blob check and the pull through the redirect, without ever seeing credentials', async () => {
    let redirecting = false;
    storage = await startFakeStorage({ blob: (path) => registry!.blobs.get(path.split('/').at(-1)!) });
    registry = await startFakeRegistry({
      auth: { scheme: 'basic', user: USER, password: PASSWORD },
      blobRedirect: (_repo, digest) => (redirecting && registry!.blobs.has(digest) ? redirectToStorage(digest) : undefined),
    });
    const dockerConfig = await dockerConfigWith({ [registry.host]: { auth: BASIC } });
    const ref = parseImageReference(`${registry.host}/asset/bert:1`);
    const image = makeImage([bytesLayer(seededBytes(200_000, 6)), bytesLayer(seededBytes(10, 7))]);
    await pushImage(image, [ref], { dockerConfig, retry: fast });
    redirecting = true;

    const again = await pushImage(image, [ref], { dockerConfig, retry: fast });
    expect(again.uploaded).toEqual([]);
    expect(again.skipped).toHaveLength(3);

    const layout = join(dir!, 'layout');
    const pulled = await pullImageToLayout(ref, layout, { dockerConfig, retry: fast });
    expect(pulled.fetched).toHaveLength(3);
    const layer = image.layers[0]!.descriptor.digest;
    expect((await readFile(join(layout, 'blobs', 'sha256', layer.slice('sha256:'.length)))).equals(registry.blobs.get(layer)!)).toBe(true);

    expect(storage.requests.some((r) => r.method === 'HEAD' && r.status === 200)).toBe(true);
    expect(storage.requests.some((r) => r.method === 'GET' && r.status === 200)).toBe(true);
    expect(storage.requests.map((r) => r.headers.authorization)).toEqual(storage.requests.map(() => undefined));
  });
});
