/**
 * Every request is retried at one level only: against a loopback server that
 * keeps answering 500, each operation sends exactly the policy's number of
 * attempts, not that number squared (a retried helper inside a retried loop).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseImageReference } from '../../oci/image-reference';
import { fetchBlob, pullImageToLayout, pullManifest } from './pull-image';
import { pushImage } from './push-image';
import { RegistryError } from './registry-errors';
import { bytesLayer, makeImage, seededBytes } from './__fixtures__/test-image';

const ATTEMPTS = 4;
const retry = { attempts: ATTEMPTS, baseDelayMs: 1, maxDelayMs: 2 };

interface Seen {
  method: string;
  path: string;
}

let server: http.Server | undefined;
let dir: string | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((done) => (server ? server.close(() => done()) : done()));
  server = undefined;
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

/** A registry stand-in: `answer` decides each response (undefined: 500). Returns its host and what it was asked. */
async function startServer(
  answer: (req: http.IncomingMessage, res: http.ServerResponse) => boolean | void = () => false,
): Promise<{ host: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  server = http.createServer((req, res) => {
    seen.push({ method: req.method ?? '', path: new URL(req.url ?? '/', 'http://x').pathname });
    req.resume();
    if (answer(req, res) === true) return;
    res.writeHead(500, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ errors: [{ code: 'UNKNOWN', message: 'always 500' }] }));
  });
  await new Promise<void>((done) => server!.listen(0, '127.0.0.1', done));
  return { host: `127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

async function clientOptions() {
  dir = await mkdtemp(join(tmpdir(), 'nxai-retry-levels-'));
  return { dockerConfig: { configDir: dir, env: {} }, retry };
}

const ping = (req: http.IncomingMessage, res: http.ServerResponse): boolean => {
  if (req.url !== '/v2/') return false;
  res.writeHead(200, { 'content-length': '0' }).end();
  return true;
};

describe('one retry level per request (server always answers 500)', () => {
  it('pull: the ping inside each manifest attempt is not retried on its own', async () => {
    const { host, seen } = await startServer();
    const error = await pullManifest(parseImageReference(`${host}/a/b:1`), await clientOptions()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistryError);
    expect((error as RegistryError).status).toBe(500);
    expect(seen).toHaveLength(ATTEMPTS);
  });

  it('pull with a bearer challenge: the token fetch inside each attempt is not retried on its own', async () => {
    let host = '';
    const started = await startServer((req, res) => {
      if (req.url !== '/v2/') return false; // the token endpoint: 500
      res.writeHead(401, { 'www-authenticate': `Bearer realm="http://${host}/token",service="x"`, 'content-length': '0' }).end();
      return true;
    });
    host = started.host;
    const error = await pullManifest(parseImageReference(`${host}/a/b:1`), await clientOptions()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistryError);
    expect(started.seen.filter((s) => s.path === '/token')).toHaveLength(ATTEMPTS);
    expect(started.seen.filter((s) => s.path === '/v2/')).toHaveLength(1);
  });

  it('pullImageToLayout: a blob is asked for attempts times, not attempts² (getBlobStream inside the download loop)', async () => {
    const image = makeImage([]);
    const { host, seen } = await startServer((req, res) => {
      if (ping(req, res)) return true;
      if (req.url?.includes('/manifests/')) {
        res
          .writeHead(200, { 'content-type': image.manifest.descriptor.mediaType, 'content-length': String(image.manifest.bytes.length) })
          .end(image.manifest.bytes);
        return true;
      }
      return false;
    });
    const options = await clientOptions();
    const error = await pullImageToLayout(parseImageReference(`${host}/a/b:1`), join(dir!, 'layout'), options).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistryError);
    expect(seen.filter((s) => s.method === 'GET' && s.path.includes('/blobs/'))).toHaveLength(ATTEMPTS);
  });

  it('fetchBlob: attempts requests', async () => {
    const { host, seen } = await startServer(ping);
    const error = await fetchBlob(parseImageReference(`${host}/a/b:1`), `sha256:${'a'.repeat(64)}`, await clientOptions()).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(RegistryError);
    expect(seen.filter((s) => s.path.includes('/blobs/'))).toHaveLength(ATTEMPTS);
  });

  it('push: the first HEAD is retried attempts times, pings included', async () => {
    const { host, seen } = await startServer();
    const image = makeImage([bytesLayer(seededBytes(100, 1))]);
    const error = await pushImage(image, [parseImageReference(`${host}/a/b:1`)], { ...(await clientOptions()), concurrency: 1 }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(RegistryError);
    expect(seen).toHaveLength(ATTEMPTS);
  });

  it('push: an upload that cannot start is tried attempts times (startUpload and blobExists inside the upload loop try once)', async () => {
    const { host, seen } = await startServer((req, res) => {
      if (ping(req, res)) return true;
      if (req.method === 'HEAD') {
        res.writeHead(404, { 'content-length': '0' }).end();
        return true;
      }
      return false; // POST /blobs/uploads/: 500
    });
    const image = makeImage([bytesLayer(seededBytes(100, 2))]);
    const retried: number[] = [];
    const error = await pushImage(image, [parseImageReference(`${host}/a/b:1`)], {
      ...(await clientOptions()),
      concurrency: 1,
      onRetry: ({ attempt }) => retried.push(attempt),
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistryError);
    expect((error as RegistryError).method).toBe('POST');
    expect(seen.filter((s) => s.method === 'POST')).toHaveLength(ATTEMPTS);
    // One HEAD before the upload, then one per later attempt (is it there by now?).
    expect(seen.filter((s) => s.method === 'HEAD')).toHaveLength(ATTEMPTS);
    expect(retried).toEqual([1, 2, 3]);
  });
});
