import { afterEach, describe, expect, it } from 'vitest';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { RegistrySession } from './registry-session';
import { getBlobStream } from './blob-fetch';
import { sha256 } from './__fixtures__/test-image';

const servers: http.Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0))
    await new Promise((r) => {
      s.closeAllConnections();
      s.close(r);
    });
});
async function serve(handler: http.RequestListener): Promise<string> {
  const server = http.createServer(handler);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('RegistrySession', () => {
  it('follows a blob redirect to storage on another host without sending the registry credentials there', async () => {
    const blob = Buffer.from('blob bytes from storage');
    const digest = sha256(blob);
    const seenByStorage: Array<string | undefined> = [];
    const storage = await serve((req, res) => {
      seenByStorage.push(req.headers.authorization);
      res.writeHead(200, { 'content-length': blob.length });
      res.end(blob);
    });
    const expected = `Basic ${Buffer.from('alice:pw').toString('base64')}`;
    const registry = await serve((req, res) => {
      if (req.headers.authorization !== expected) {
        res.writeHead(401, { 'www-authenticate': 'Basic realm="r"', 'content-length': 0 });
        return res.end();
      }
      if (req.url === '/v2/') return res.end();
      res.writeHead(307, { location: `http://${storage}/bucket/blob?X-Amz-Signature=abc`, 'content-length': 0 });
      res.end();
    });
    const session = new RegistrySession({ registry, credentials: { username: 'alice', password: 'pw' } });
    try {
      const stream = await getBlobStream(session, 'a/b', digest, blob.length);
      const chunks: Buffer[] = [];
      for await (const c of stream) chunks.push(c as Buffer);
      expect(Buffer.concat(chunks).equals(blob)).toBe(true);
      expect(seenByStorage).toEqual([undefined]);
    } finally {
      session.close();
    }
  });

  it('turns an unexpected answer into a RegistryError with the registry code and a redacted URL', async () => {
    const registry = await serve((req, res) => {
      if (req.url === '/v2/') return res.end();
      const body = JSON.stringify({ errors: [{ code: 'NAME_UNKNOWN', message: 'repository name not known to registry' }] });
      res.writeHead(404, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
    const session = new RegistrySession({ registry, retry: { attempts: 1 } });
    try {
      const error = await session
        .request({ method: 'GET', path: '/v2/x/manifests/t', query: { token: 'secret-token' }, scopes: [], expect: [200] })
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ name: 'RegistryError', method: 'GET', status: 404, code: 'NAME_UNKNOWN', registry });
      expect((error as Error).message).toBe(
        `GET http://${registry}/v2/x/manifests/t?token=REDACTED failed: 404 NAME_UNKNOWN: repository name not known to registry`,
      );
    } finally {
      session.close();
    }
  });
});
