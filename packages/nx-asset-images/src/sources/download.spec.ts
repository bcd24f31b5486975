/**
 * Integration tests of the downloader against loopback HTTP servers started
 * here (127.0.0.1 only, port 0). No Docker, no internet.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { downloadVerified } from './download';
import { SourceChecksumError, SourceHttpError, SourceProtocolError, SourceRetriesExhaustedError, SourceSizeError } from './download-errors';
import type { SourceProgressEvent } from './download-progress';
import { fetchSources } from './download-sources';
import { authFromEnv, noAuth } from './source-auth';
import { cachedSourcePath, sourceCachePaths } from './source-cache';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

interface TestServer {
  origin: string;
  requests: { url: string; headers: IncomingHttpHeaders }[];
  close(): Promise<void>;
}

const servers: TestServer[] = [];

async function startServer(handler: Handler): Promise<TestServer> {
  const requests: TestServer['requests'] = [];
  const server = http.createServer((req, res) => {
    requests.push({ url: req.url ?? '', headers: req.headers });
    handler(req, res);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  let closed = false;
  const handle: TestServer = {
    origin: `http://127.0.0.1:${port}`,
    requests,
    close: async () => {
      if (closed) return;
      closed = true;
      server.closeAllConnections();
      await new Promise<void>((done) => server.close(() => done()));
    },
  };
  servers.push(handle);
  return handle;
}

/** Serves `files` by path, honouring `Range: bytes=n-` unless `ignoreRange`. */
function fileHandler(files: Record<string, Buffer>, options: { ignoreRange?: boolean } = {}): Handler {
  return (req, res) => {
    const path = (req.url ?? '').split('?')[0]!;
    const body = files[path];
    if (body === undefined) {
      res.writeHead(404).end();
      return;
    }
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (range && !options.ignoreRange) {
      const start = Number(range[1]);
      res.writeHead(206, {
        'content-length': body.length - start,
        'content-range': `bytes ${start}-${body.length - 1}/${body.length}`,
      });
      res.end(body.subarray(start));
      return;
    }
    res.writeHead(200, { 'content-length': body.length });
    res.end(body);
  };
}

/**
 * First request: announces the whole length, sends `cut` bytes, gives the
 * client time to store them (a destroyed socket discards what the client has
 * not read yet, which would make the resume offset vary), then drops the
 * connection. Later requests: `then`.
 */
function dropOnceHandler(body: Buffer, cut: number, then: Handler): Handler {
  let dropped = false;
  return (req, res) => {
    if (dropped) {
      then(req, res);
      return;
    }
    dropped = true;
    res.writeHead(200, { 'content-length': body.length });
    res.write(body.subarray(0, cut), () => setTimeout(() => res.socket?.destroy(), 100));
  };
}

const sha = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const fast = { attempts: 3, baseDelayMs: 1 };

let cacheDir: string;

beforeEach(async () => {
  cacheDir = await mkdtemp(join(tmpdir(), 'nx-asset-images-download-'));
});

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
  await rm(cacheDir, { recursive: true, force: true });
});

async function cacheEntries(): Promise<string[]> {
  const dir = join(cacheDir, 'sha256');
  return existsSync(dir) ? readdir(dir) : [];
}

async function partialFiles(): Promise<string[]> {
  const dir = join(cacheDir, 'partial');
  return existsSync(dir) ? (await readdir(dir)).filter((name) => name.endsWith('.part')) : [];
}

describe('downloadVerified / fetchSources', () => {
  it('downloads two files byte-identical to what the server served, into the sha256 cache', async () => {
    const a = randomBytes(300_000);
    const b = randomBytes(12_345);
    const server = await startServer(fileHandler({ '/org/model/resolve/main/a.safetensors': a, '/b.json': b }));
    const events: SourceProgressEvent[] = [];

    const paths = await fetchSources(
      [
        { url: `${server.origin}/org/model/resolve/main/a.safetensors`, sha256: sha(a), size: a.length },
        { url: `${server.origin}/b.json`, sha256: sha(b) },
      ],
      { cacheDir, auth: noAuth, retry: fast, onProgress: (event) => events.push(event) },
    );

    expect([...paths.keys()].sort()).toEqual([sha(a), sha(b)].sort());
    expect(paths.get(sha(a))).toBe(join(cacheDir, 'sha256', sha(a)));
    expect((await readFile(paths.get(sha(a))!)).equals(a)).toBe(true);
    expect((await readFile(paths.get(sha(b))!)).equals(b)).toBe(true);
    expect(await partialFiles()).toEqual([]);
    const lastOfA = events.filter((event) => event.label === 'a.safetensors').at(-1);
    expect(lastOfA).toMatchObject({ bytes: a.length, total: a.length, done: true, resumedFrom: 0 });
    expect(typeof lastOfA?.startedAt).toBe('number');
  });

  it('resumes with Range after the connection drops halfway', async () => {
    const body = randomBytes(200_000);
    const cut = 100_000;
    const server = await startServer(dropOnceHandler(body, cut, fileHandler({ '/w.bin': body })));

    const path = await downloadVerified({ url: `${server.origin}/w.bin`, sha256: sha(body) }, { cacheDir, auth: noAuth, retry: fast });

    expect((await readFile(path)).equals(body)).toBe(true);
    expect(server.requests).toHaveLength(2);
    expect(server.requests[0]!.headers.range).toBeUndefined();
    expect(server.requests[1]!.headers.range).toBe(`bytes=${cut}-`);
    expect(await partialFiles()).toEqual([]);
  });

  it('reads a 200 answer to a Range request (a server that ignores Range) past the bytes it holds', async () => {
    const body = randomBytes(150_000);
    const server = await startServer(dropOnceHandler(body, 70_000, fileHandler({ '/w.bin': body }, { ignoreRange: true })));

    const path = await downloadVerified(
      { url: `${server.origin}/w.bin`, sha256: sha(body), size: body.length },
      { cacheDir, auth: noAuth, retry: fast },
    );

    expect(server.requests[1]!.headers.range).toBe('bytes=70000-');
    expect((await readFile(path)).equals(body)).toBe(true);
  });

  it('resumes a partial left on disk by an earlier, interrupted run', async () => {
    const body = randomBytes(64_000);
    const { partial } = sourceCachePaths(cacheDir, sha(body));
    await mkdir(join(cacheDir, 'partial'), { recursive: true });
    await writeFile(partial, body.subarray(0, 40_000));
    const server = await startServer(fileHandler({ '/w.bin': body }));

    const path = await downloadVerified({ url: `${server.origin}/w.bin`, sha256: sha(body) }, { cacheDir, auth: noAuth, retry: fast });

    expect(server.requests.map((request) => request.headers.range)).toEqual(['bytes=40000-']);
    expect((await readFile(path)).equals(body)).toBe(true);
  });

  it.each([
    [
      'a 416 whose total is not the partial',
      (res: ServerResponse) => res.writeHead(416, { 'content-range': 'bytes */99999' }).end(),
      /HTTP 416 for a resume at byte 40000; restarting from 0/,
    ],
    [
      'a 206 from the wrong offset',
      (res: ServerResponse) => res.writeHead(206, { 'content-length': 10, 'content-range': 'bytes 0-9/64000' }).end(Buffer.alloc(10)),
      /Content-Range "bytes 0-9\/64000" for a resume at byte 40000; restarting from 0/,
    ],
  ])('after %s, the message names the offset it tried to resume at (not 0) and says it restarts', async (_name, answer, message) => {
    const body = randomBytes(64_000);
    const { partial } = sourceCachePaths(cacheDir, sha(body));
    await mkdir(join(cacheDir, 'partial'), { recursive: true });
    await writeFile(partial, body.subarray(0, 40_000));
    const server = await startServer((_req, res) => answer(res));

    // One attempt: the error of the resume is the one reported.
    const error = await downloadVerified(
      { url: `${server.origin}/w.bin`, sha256: sha(body) },
      { cacheDir, auth: noAuth, retry: { attempts: 1, baseDelayMs: 1 } },
    ).catch((e: unknown) => e);

    expect(server.requests.map((request) => request.headers.range)).toEqual(['bytes=40000-']);
    expect(error).toBeInstanceOf(SourceRetriesExhaustedError);
    expect((error as Error).cause).toBeInstanceOf(SourceProtocolError);
    expect((error as Error).message).toMatch(message);
    // It did restart: the partial is empty, so the next attempt asks from byte 0.
    expect((await readFile(partial)).length).toBe(0);
  });

  it('rejects wrong bytes with SourceChecksumError naming the redacted URL, expected and actual; nothing is cached', async () => {
    const expected = randomBytes(10_000);
    const served = randomBytes(10_000);
    const server = await startServer(fileHandler({ '/w.bin': served }));
    const url = `${server.origin}/w.bin?X-Amz-Signature=topsecret`;

    const error = await downloadVerified({ url, sha256: sha(expected) }, { cacheDir, auth: noAuth, retry: fast }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(SourceChecksumError);
    const mismatch = error as SourceChecksumError;
    expect(mismatch.url).toBe(`${server.origin}/w.bin?X-Amz-Signature=REDACTED`);
    expect(mismatch.expected).toBe(sha(expected));
    expect(mismatch.actual).toBe(sha(served));
    expect(mismatch.message).toContain(mismatch.url);
    expect(mismatch.message).toContain(sha(expected));
    expect(mismatch.message).toContain(sha(served));
    expect(mismatch.message).not.toContain('topsecret');
    expect(await cacheEntries()).toEqual([]);
    expect(await partialFiles()).toEqual([]);
    expect(await cachedSourcePath(sha(expected), cacheDir)).toBeUndefined();
  });

  it('rejects a Content-Length that contradicts the pinned size before reading the body', async () => {
    const body = randomBytes(5_000);
    const server = await startServer(fileHandler({ '/w.bin': body }));

    const error = await downloadVerified(
      { url: `${server.origin}/w.bin`, sha256: sha(body), size: 4_000 },
      { cacheDir, auth: noAuth, retry: fast },
    ).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(SourceSizeError);
    expect(error).toMatchObject({ expected: 4_000, actual: 5_000 });
    expect(await cacheEntries()).toEqual([]);
    expect(await partialFiles()).toEqual([]);
  });

  it('serves a second fetch from the cache with the server stopped (no network)', async () => {
    const body = randomBytes(20_000);
    const server = await startServer(fileHandler({ '/w.bin': body }));
    const source = { url: `${server.origin}/w.bin`, sha256: sha(body) };
    const first = await downloadVerified(source, { cacheDir, auth: noAuth, retry: fast });
    await server.close();

    const again = await downloadVerified(source, { cacheDir, auth: noAuth, retry: { attempts: 1, baseDelayMs: 1 } });
    const all = await fetchSources([source], { cacheDir, auth: noAuth, retry: { attempts: 1, baseDelayMs: 1 } });

    expect(again).toBe(first);
    expect(all.get(sha(body))).toBe(first);
    expect(server.requests).toHaveLength(1);
  });

  it('shares one download between concurrent callers of the same sha256', async () => {
    const body = randomBytes(50_000);
    const files = { '/a/model.bin': body, '/b/model.bin': body };
    const serve = fileHandler(files);
    const server = await startServer((req, res) => setTimeout(() => serve(req, res), 100));
    const options = { cacheDir, auth: noAuth, retry: fast };

    const [one, two, three] = await Promise.all([
      downloadVerified({ url: `${server.origin}/a/model.bin`, sha256: sha(body) }, options),
      downloadVerified({ url: `${server.origin}/a/model.bin`, sha256: sha(body) }, options),
      fetchSources(
        [
          { url: `${server.origin}/a/model.bin`, sha256: sha(body) },
          { url: `${server.origin}/b/model.bin`, sha256: sha(body) },
        ],
        options,
      ),
    ]);

    expect(server.requests).toHaveLength(1);
    expect(two).toBe(one);
    expect(three.get(sha(body))).toBe(one);
    expect((await readFile(one)).equals(body)).toBe(true);
  });

  it('sends the token to its origin, keeps it on same-origin redirects, drops it on a redirect to another origin', async () => {
    const body = randomBytes(8_000);
    const other = await startServer(fileHandler({ '/blob': body }));
    const home = await startServer((req, res) => {
      if (req.url === '/start') res.writeHead(302, { location: '/moved' }).end();
      else res.writeHead(307, { location: `${other.origin}/blob?sig=abc` }).end();
    });
    const auth = authFromEnv({ NX_ASSET_IMAGES_TOKEN_127_0_0_1: 'secret-token-a' });

    const path = await downloadVerified({ url: `${home.origin}/start`, sha256: sha(body) }, { cacheDir, auth, retry: fast });

    expect((await readFile(path)).equals(body)).toBe(true);
    expect(home.requests.map((request) => [request.url, request.headers.authorization])).toEqual([
      ['/start', 'Bearer secret-token-a'],
      ['/moved', 'Bearer secret-token-a'],
    ]);
    expect(other.requests).toHaveLength(1);
    expect(other.requests[0]!.headers.authorization).toBeUndefined();
  });

  it('never puts the token in errors, and names the env variable on 401', async () => {
    const server = await startServer((_req, res) => res.writeHead(401, 'Unauthorized').end());
    const auth = authFromEnv({ NX_ASSET_IMAGES_TOKEN_127_0_0_1: 'secret-token-b' });

    const error = await downloadVerified({ url: `${server.origin}/w.bin`, sha256: 'a'.repeat(64) }, { cacheDir, auth, retry: fast }).catch(
      (e: unknown) => e,
    );

    expect(error).toBeInstanceOf(SourceHttpError);
    expect((error as SourceHttpError).status).toBe(401);
    expect(server.requests).toHaveLength(1);
    expect((error as Error).message).toContain('NX_ASSET_IMAGES_TOKEN_127_0_0_1');
    expect(JSON.stringify(error) + String((error as Error).message) + String((error as Error).stack)).not.toContain('secret-token-b');
  });

  it('gives up after retry.attempts when the server always answers 500', async () => {
    const server = await startServer((_req, res) => res.writeHead(500, 'Internal Server Error').end());

    const error = await downloadVerified(
      { url: `${server.origin}/w.bin`, sha256: 'b'.repeat(64) },
      { cacheDir, auth: noAuth, retry: { attempts: 3, baseDelayMs: 1 } },
    ).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(SourceRetriesExhaustedError);
    expect((error as SourceRetriesExhaustedError).attempts).toBe(3);
    expect((error as Error).message).toMatch(/after 3 attempts.*HTTP 500/);
    expect((error as Error).cause).toBeInstanceOf(SourceHttpError);
    expect(server.requests).toHaveLength(3);
  });

  it('retries a 503 and then succeeds', async () => {
    const body = randomBytes(1_000);
    let calls = 0;
    const serve = fileHandler({ '/w.bin': body });
    const server = await startServer((req, res) => (++calls === 1 ? res.writeHead(503).end() : serve(req, res)));

    const path = await downloadVerified({ url: `${server.origin}/w.bin`, sha256: sha(body) }, { cacheDir, auth: noAuth, retry: fast });

    expect(server.requests).toHaveLength(2);
    expect((await readFile(path)).equals(body)).toBe(true);
  });

  it('does not retry a 404', async () => {
    const server = await startServer(fileHandler({}));

    const error = await downloadVerified(
      { url: `${server.origin}/missing.bin`, sha256: 'c'.repeat(64) },
      { cacheDir, auth: noAuth, retry: fast },
    ).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(SourceHttpError);
    expect(server.requests).toHaveLength(1);
  });

  it('stops after 10 redirects', async () => {
    const server = await startServer((req, res) => res.writeHead(302, { location: `${req.url}x` }).end());

    const error = await downloadVerified(
      { url: `${server.origin}/r`, sha256: 'd'.repeat(64) },
      { cacheDir, auth: noAuth, retry: fast },
    ).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(SourceProtocolError);
    expect(server.requests).toHaveLength(11);
  });

  it('keeps the partial when aborted, so a later call resumes', async () => {
    const body = randomBytes(100_000);
    const cut = 30_000;
    let first = true;
    const serve = fileHandler({ '/w.bin': body });
    const controller = new AbortController();
    const server = await startServer((req, res) => {
      if (!first) return serve(req, res);
      first = false;
      res.writeHead(200, { 'content-length': body.length });
      res.write(body.subarray(0, cut), () => setTimeout(() => controller.abort(new Error('stop')), 50));
    });
    const source = { url: `${server.origin}/w.bin`, sha256: sha(body) };

    const aborted = await downloadVerified(source, { cacheDir, auth: noAuth, retry: fast, signal: controller.signal }).catch(
      (e: unknown) => e,
    );
    expect(aborted).toMatchObject({ message: 'stop' });
    expect(await partialFiles()).toEqual([`${sha(body)}.part`]);
    const path = await downloadVerified(source, { cacheDir, auth: noAuth, retry: fast });

    expect(server.requests[1]!.headers.range).toBe(`bytes=${cut}-`);
    expect((await readFile(path)).equals(body)).toBe(true);
  });
});
