/**
 * A second loopback server standing in for the blob storage behind a registry
 * (S3 behind Docker Hub, ECR, GCR): a registry redirects blob reads to it.
 * Either it wants credentials of its own (401 with the given challenge, and a
 * `/token` endpoint that would hand out a token to whoever asks), or it serves
 * the bytes to anyone holding the URL (a presigned URL). Records every request,
 * headers included, so tests can check that no registry credential reached it.
 */
import * as http from 'node:http';
import { listenLoopback } from './loopback-server';
import type { RecordedRequest } from './fake-registry';

export interface FakeStorageOptions {
  /** `WWW-Authenticate` of the 401 every non-token request gets, given this server's base URL; undefined: no auth needed. */
  challenge?: (base: string) => string;
  /** The bytes at a path (presigned case); undefined answers 404. */
  blob?: (path: string) => Buffer | undefined;
}

export interface FakeStorage {
  host: string;
  url: string;
  requests: RecordedRequest[];
  tokenRequests: RecordedRequest[];
  close(): Promise<void>;
}

export async function startFakeStorage(options: FakeStorageOptions = {}): Promise<FakeStorage> {
  const requests: RecordedRequest[] = [];
  const tokenRequests: RecordedRequest[] = [];
  let base = '';
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', base);
    const recorded: RecordedRequest = { method: req.method ?? '', url: url.pathname + url.search, headers: req.headers };
    res.on('finish', () => (recorded.status = res.statusCode));
    req.resume();
    if (url.pathname === '/token') {
      tokenRequests.push(recorded);
      const body = JSON.stringify({ token: 'storage-token', access_token: 'storage-token', expires_in: 300 });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      return res.end(body);
    }
    requests.push(recorded);
    if (options.challenge) {
      res.writeHead(401, { 'www-authenticate': options.challenge(base), 'content-length': 0 });
      return res.end();
    }
    const bytes = options.blob?.(url.pathname);
    if (!bytes) {
      res.writeHead(404, { 'content-length': 0 });
      return res.end();
    }
    res.writeHead(200, { 'content-length': bytes.length, 'content-type': 'application/octet-stream' });
    res.end(req.method === 'HEAD' ? undefined : bytes);
  });
  const address = await listenLoopback(server);
  base = address.url;
  return {
    ...address,
    requests,
    tokenRequests,
  };
}
