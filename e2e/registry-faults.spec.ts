// The registry client when things break, against the real Distribution
// registry: the registry process SIGKILLed in the middle of a ~200 MB upload
// and started again on the same port and storage; a fault proxy that drops
// connections and answers 500/429 at random (seeded). A push either
// completes or fails with a clear error, and in both cases every tag that
// exists points at a manifest whose blobs all exist.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseImageReference } from '../packages/nx-asset-images/src/oci/image-reference';
import { fetchBlob, pushImage, RegistryError, referencedDigests } from '../packages/nx-asset-images/src/transports/registry';
import { bytesLayer, makeImage, seededBytes } from '../packages/nx-asset-images/src/transports/registry/__fixtures__/test-image';
import { exec } from './support/exec';
import { startFaultProxy } from './support/fault-proxy';
import { startTokenServer } from './support/token-server';
import { Readable } from 'node:stream';
import { RegistryAuthError } from '../packages/nx-asset-images/src/transports/registry';
import { servicesEnv } from './support/services';
import { removeTempDirs, tempDir } from './support/temp-dirs';

const processes: ChildProcess[] = [];
afterAll(() => {
  for (const p of processes) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  removeTempDirs();
});
const isolated = () => ({ dockerConfig: { configDir: tempDir('nxai-regf-'), env: {} } });
const unique = `${process.pid}-${Date.now()}`;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** A Distribution registry of our own (we kill and restart it), on a fixed port and storage dir. */
async function startRegistryProcess(dir: string, port: number, extraYaml: string[] = []): Promise<ChildProcess> {
  const config = path.join(dir, 'config.yml');
  writeFileSync(
    config,
    [
      'version: 0.1',
      'log: { level: error, accesslog: { disabled: true } }',
      `storage: { filesystem: { rootdirectory: ${path.join(dir, 'storage')} }, delete: { enabled: true }, maintenance: { uploadpurging: { enabled: false } } }`,
      // A fixed secret: upload session states signed before a restart stay valid after it.
      `http: { addr: "127.0.0.1:${port}", secret: "nxai-e2e-fixed-secret" }`,
      ...extraYaml,
      '',
    ].join('\n'),
  );
  // Distribution reads REGISTRY_* variables as config overrides (REGISTRY_AUTH_FILE, set for skopeo, would turn on auth).
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('REGISTRY_')));
  const child = spawn('docker-registry', ['serve', config], { stdio: ['ignore', 'ignore', 'pipe'], env });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-2000)));
  processes.push(child);
  for (let i = 0; i < 100; i++) {
    const ok = await fetch(`http://127.0.0.1:${port}/v2/`).then(
      (r) => r.status === 200 || r.status === 401,
      () => false,
    );
    if (ok) return child;
    if (child.exitCode !== null) throw new Error(`docker-registry exited with ${child.exitCode}: ${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`docker-registry on ${port} did not answer`);
}

/**
 * Every tag of `repository` points at a manifest whose blobs all exist. Returns the tags: none when the registry
 * does not know the repository, which it must say as such (404 NAME_UNKNOWN), not as any other failure.
 */
async function assertTagsConsistent(registry: string, repository: string): Promise<string[]> {
  const list = await fetch(`http://${registry}/v2/${repository}/tags/list`);
  if (list.status === 404) {
    const body = (await list.json()) as { errors?: { code: string }[] };
    expect(body.errors?.map((e) => e.code)).toEqual(['NAME_UNKNOWN']);
    return [];
  }
  expect(list.status).toBe(200);
  const tags = ((await list.json()) as { tags: string[] | null }).tags ?? [];
  for (const tag of tags) {
    const res = await fetch(`http://${registry}/v2/${repository}/manifests/${tag}`, {
      headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
    });
    expect(res.status).toBe(200);
    const bytes = Buffer.from(await res.arrayBuffer());
    for (const digest of referencedDigests(bytes)) {
      const head = await fetch(`http://${registry}/v2/${repository}/blobs/${digest}`, { method: 'HEAD' });
      expect({ tag, digest, status: head.status }).toEqual({ tag, digest, status: 200 });
    }
  }
  return tags;
}

describe('registry client under failures', () => {
  it('registry SIGKILLed in the middle of a 200 MB upload and restarted on the same port and storage: the push completes', async () => {
    const dir = tempDir('nxai-regf-');
    const port = await freePort();
    let registry = await startRegistryProcess(dir, port);
    const data = randomBytes(200 * 1024 * 1024);
    const layer = bytesLayer(data, { chunk: 1024 * 1024 });
    const image = makeImage([layer], 'kill');
    const host = `127.0.0.1:${port}`;
    let restarted: Promise<void> | undefined;
    let killedAt = 0;
    const retries: string[] = [];
    const result = await pushImage(image, [parseImageReference(`${host}/e2e/killed:1`)], {
      ...isolated(),
      retry: { attempts: 10, baseDelayMs: 300, maxDelayMs: 3000 },
      onRetry: ({ attempt, error }) => retries.push(`attempt ${attempt}: ${(error as Error).message}`),
      onProgress: (e) => {
        if (!restarted && e.label === layer.descriptor.digest && e.bytes > 80 * 1024 * 1024) {
          killedAt = e.bytes;
          registry.kill('SIGKILL');
          restarted = new Promise<void>((resolve) => registry.once('exit', () => resolve())).then(async () => {
            await new Promise((r) => setTimeout(r, 500));
            registry = await startRegistryProcess(dir, port);
          });
        }
      },
    }).catch((e: unknown) => {
      retries.push(String(e));
      throw e;
    });
    await restarted;
    console.log(`killed at ${killedAt} bytes; retries:\n${retries.join('\n')}`);
    expect(retries.length).toBeGreaterThan(0);
    expect(killedAt).toBeGreaterThan(80 * 1024 * 1024);
    expect(killedAt).toBeLessThan(data.length);
    expect(result.uploaded).toContain(layer.descriptor.digest);
    const { stdout } = await exec('skopeo', ['inspect', '--tls-verify=false', `docker://${host}/e2e/killed:1`], { timeoutMs: 60_000 });
    expect((JSON.parse(stdout) as { Digest: string }).Digest).toBe(image.manifest.descriptor.digest);
    expect(await assertTagsConsistent(host, 'e2e/killed')).toEqual(['1']);
    registry.kill('SIGTERM');
  });

  it.each([
    [1, 0.3, undefined],
    [2, 0.3, 512 * 1024],
    [3, 0.4, undefined],
  ])('through a fault proxy (seed %i, rate %f, chunk %s): completes, and tags stay consistent', async (seed, rate, chunkSize) => {
    const { NXAI_REGISTRY } = servicesEnv();
    // At most 8 faults against 12 attempts per blob: every failed attempt costs at least one fault, so
    // completion is certain whatever order the requests reach the proxy in (the seed fixes the faults'
    // sequence, not which request draws them). The unbounded case is the next test.
    const proxy = await startFaultProxy({ target: NXAI_REGISTRY, seed, rate, maxFaults: 8 });
    try {
      const repository = `e2e/faulty-${seed}-${unique}`;
      const image = makeImage(
        [
          bytesLayer(seededBytes(2 * 1024 * 1024, seed * 10 + 1)),
          bytesLayer(seededBytes(1536 * 1024, seed * 10 + 2)),
          bytesLayer(seededBytes(700, seed * 10 + 3)),
        ],
        `faulty-${seed}`,
      );
      const ref = parseImageReference(`${proxy.host}/${repository}:1`);
      const result = await pushImage(image, [ref, { ...ref, tag: 'latest' }], {
        ...isolated(),
        retry: { attempts: 12, baseDelayMs: 20, maxDelayMs: 200 },
        ...(chunkSize ? { chunkSize } : {}),
      });
      expect(result.manifestDigest).toBe(image.manifest.descriptor.digest);
      expect(proxy.injected.length).toBeGreaterThan(0);
      expect((await assertTagsConsistent(NXAI_REGISTRY, repository)).sort()).toEqual(['1', 'latest']);
    } finally {
      await proxy.close();
    }
  });

  it('a blob download cut off halfway, twice, through a proxy in front of the real registry: resumed with Range (206), byte-identical', async () => {
    const { NXAI_REGISTRY } = servicesEnv();
    const repository = `e2e/resume-${unique}`;
    const bytes = seededBytes(8 * 1024 * 1024, 77);
    const image = makeImage([bytesLayer(bytes)], 'resume');
    await pushImage(image, [parseImageReference(`${NXAI_REGISTRY}/${repository}:1`)], isolated());
    const proxy = await startFaultProxy({ target: NXAI_REGISTRY, seed: 5, rate: 1, faults: ['cut-response'], maxFaults: 2 });
    try {
      const layer = image.layers[0]!.descriptor;
      const stream = await fetchBlob(parseImageReference(`${proxy.host}/${repository}:1`), layer.digest, {
        ...isolated(),
        size: layer.size,
        retry: { baseDelayMs: 10, maxDelayMs: 50 },
      });
      const chunks: Buffer[] = [];
      for await (const chunk of stream) chunks.push(chunk as Buffer);
      expect(Buffer.concat(chunks).equals(bytes)).toBe(true);
      const gets = proxy.requests.filter((r) => r.method === 'GET' && r.path.endsWith(layer.digest));
      expect(proxy.injected.map((f) => f.fault)).toEqual(['cut-response', 'cut-response']);
      expect(gets).toHaveLength(3);
      expect(gets[0]!.range).toBeUndefined();
      // Each resume starts from what had arrived, further each time; the registry answers the ranges with 206.
      const starts = gets.slice(1).map((g) => Number(/^bytes=(\d+)-$/.exec(g.range ?? '')?.[1]));
      expect(starts[0]).toBeGreaterThan(0);
      expect(starts[1]).toBeGreaterThan(starts[0]!);
      expect(gets.slice(1).map((g) => g.status)).toEqual([206, 206]);
    } finally {
      await proxy.close();
    }
  });

  // Every manifest PUT is answered 500 after the registry took it, so the push cannot succeed whatever else happens.
  // Every request failing (rate 1, unbounded): it fails at its first request, and the registry holds no tag.
  // Two random faults at most against 3 attempts: every blob gets through, the manifest PUT fails each time, and the
  // tag the registry took names a manifest whose blobs are all there.
  it.each([
    ['every request fails', 99, 1, undefined, false],
    ['only the manifest PUTs fail', 7, 0.3, 2, true],
  ] as const)(
    'through a fault proxy, %s: a clear RegistryError, and the tags the registry took point at complete images',
    async (name, seed, rate, maxFaults, tagged) => {
      const { NXAI_REGISTRY } = servicesEnv();
      const proxy = await startFaultProxy({
        target: NXAI_REGISTRY,
        seed,
        rate,
        ...(maxFaults !== undefined ? { maxFaults } : {}),
        faults: ['drop', 'drop-mid-body', '500', '500-after'],
        always: ({ method, path }) => (method === 'PUT' && path.includes('/manifests/') ? '500-after' : undefined),
      });
      try {
        const repository = `e2e/broken-${seed}-${unique}`;
        const image = makeImage([bytesLayer(seededBytes(1024 * 1024, 50)), bytesLayer(seededBytes(2048, 51))], `broken ${name}`);
        const outcome = await pushImage(image, [parseImageReference(`${proxy.host}/${repository}:1`)], {
          ...isolated(),
          retry: { attempts: 3, baseDelayMs: 10, maxDelayMs: 50 },
        }).then(
          (r) => r,
          (e: unknown) => e,
        );
        expect(outcome).toBeInstanceOf(RegistryError);
        const e = outcome as RegistryError;
        expect(e.message).toMatch(/^(GET|HEAD|POST|PUT|PATCH) http:\/\/127\.0\.0\.1:\d+\/v2\/e2e\/broken-/);
        expect(e.registry).toBe(proxy.host);
        expect(e.status !== undefined || e.cause !== undefined).toBe(true);
        expect(proxy.injected.length).toBeGreaterThan(0);
        // The registry took a manifest PUT (answered 500 after it) exactly when this case says it gets that far.
        const taken = proxy.requests.some((r) => r.method === 'PUT' && r.path.endsWith('/manifests/1') && r.status === 201);
        expect(taken).toBe(tagged);
        if (tagged) expect({ method: e.method, status: e.status }).toEqual({ method: 'PUT', status: 500 });
        expect(await assertTagsConsistent(NXAI_REGISTRY, repository)).toEqual(tagged ? ['1'] : []);
      } finally {
        await proxy.close();
      }
    },
  );

  it('token auth (real registry + token server): a token that expires in the middle of a chunked upload is renewed and the push completes; a wrong password is a RegistryAuthError', async () => {
    const dir = tempDir('nxai-regf-');
    const tokens = await startTokenServer({
      dir,
      users: { alice: 'tok-pw-correct' },
      signedLifetimeSeconds: -59,
      statedLifetimeSeconds: 300,
    });
    const port = await freePort();
    const registry = await startRegistryProcess(dir, port, [tokens.registryAuthYaml()]);
    try {
      const host = `127.0.0.1:${port}`;
      const data = seededBytes(24 * 1024 * 1024, 77);
      const fast = bytesLayer(data);
      // Distribution accepts a token until 60 s after its `exp` (clock-skew leeway): exp = now - 59 s makes
      // tokens good for about 1 s. Slow the bytes down (about 2.5 s in all) so they expire between chunks.
      // Only the first read is slow: a resumed attempt re-reads (skips) the prefix it already sent.
      let opens = 0;
      const slow = {
        ...fast,
        open: () =>
          Readable.from(
            (async function* (delayMs: number) {
              for (let i = 0; i < data.length; i += 1024 * 1024) {
                if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
                yield data.subarray(i, i + 1024 * 1024);
              }
            })(opens++ === 0 ? 100 : 0),
          ),
      };
      const image = makeImage([slow], 'token');
      const retries: string[] = [];
      const result = await pushImage(image, [parseImageReference(`${host}/e2e/token:1`)], {
        credentials: { username: 'alice', password: 'tok-pw-correct' },
        chunkSize: 2 * 1024 * 1024,
        retry: { attempts: 8, baseDelayMs: 50 },
        onRetry: ({ error }) => retries.push((error as Error).name),
      });
      expect(result.uploaded).toContain(fast.descriptor.digest);
      expect(tokens.issued).toBeGreaterThan(1);
      expect(retries).toContain('StaleCredentialsError');
      const { stdout } = await exec(
        'skopeo',
        ['inspect', '--tls-verify=false', '--creds', 'alice:tok-pw-correct', `docker://${host}/e2e/token:1`],
        { timeoutMs: 60_000 },
      );
      expect((JSON.parse(stdout) as { Digest: string }).Digest).toBe(image.manifest.descriptor.digest);

      const error = await pushImage(makeImage([bytesLayer(seededBytes(10, 78))]), [parseImageReference(`${host}/e2e/token:2`)], {
        credentials: { username: 'alice', password: 'tok-pw-WRONG' },
      }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RegistryAuthError);
      expect((error as Error).message).toContain(`authentication to ${host} failed for user "alice"`);
      expect(`${(error as Error).message} ${JSON.stringify(error)}`).not.toContain('tok-pw-WRONG');
    } finally {
      registry.kill('SIGTERM');
      await tokens.close();
    }
  });
});
