import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createAgents, destroyAgents } from './agents';
import { HttpIdleTimeoutError, HttpNetworkError, HttpRedirectError } from './http-errors';
import { httpRequest } from './http-request';
import { discardResponseBody, readResponseBody } from './response-body';

const servers: http.Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => (s.closeAllConnections(), s.close(r)));
});

async function serve(handler: http.RequestListener): Promise<{ origin: string; seen: Array<[string, string | undefined]> }> {
  const seen: Array<[string, string | undefined]> = [];
  const server = http.createServer((req, res) => {
    seen.push([req.url ?? '', req.headers.authorization]);
    handler(req, res);
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

describe('httpRequest', () => {
  it('decides the Authorization header on every hop: the owner gets it, another origin not, the owner again after coming back', async () => {
    let owner = '';
    const other = await serve((_req, res) => res.writeHead(302, { location: `${owner}/back` }).end());
    const home = await serve((req, res) => {
      if (req.url === '/start') res.writeHead(307, { location: `${other.origin}/elsewhere?sig=x` }).end();
      else res.end('done');
    });
    owner = home.origin;
    const agents = createAgents(2);
    try {
      const response = await httpRequest({
        method: 'GET',
        url: new URL(`${home.origin}/start`),
        headers: { authorization: 'Bearer caller-set' },
        agents,
        credentials: { owner: new URL(home.origin), authorization: () => 'Bearer t' },
        redirects: { max: 5 },
      });
      expect((await readResponseBody(response)).toString()).toBe('done');
      expect(response).toMatchObject({ status: 200, redirects: 2, credentialsAllowed: true, sentCredentials: true });
      expect(response.url.toString()).toBe(`${home.origin}/back`);
      expect(home.seen).toEqual([
        ['/start', 'Bearer t'],
        ['/back', 'Bearer t'],
      ]);
      expect(other.seen).toEqual([['/elsewhere?sig=x', undefined]]);
    } finally {
      destroyAgents(agents);
    }
  });

  it('returns a redirect as the answer when not following, or when it is one of `except`', async () => {
    const server = await serve((_req, res) => res.writeHead(302, { location: '/x' }).end());
    for (const redirects of [undefined, { max: 5, except: [302] }]) {
      const response = await httpRequest({ method: 'GET', url: new URL(server.origin), ...(redirects ? { redirects } : {}) });
      await discardResponseBody(response);
      expect(response.status).toBe(302);
    }
    expect(server.seen).toHaveLength(2);
  });

  it.each([
    ['no-location', (res: http.ServerResponse) => res.writeHead(302).end(), /redirect without Location/],
    ['too-many', (res: http.ServerResponse) => res.writeHead(302, { location: '/again' }).end(), /more than 2 redirects/],
    [
      'unsupported-protocol',
      (res: http.ServerResponse) => res.writeHead(302, { location: 'ftp://h/x' }).end(),
      /unsupported protocol ftp:/,
    ],
  ])('fails with HttpRedirectError %s', async (problem, answer, message) => {
    const server = await serve((_req, res) => answer(res));
    const error = await httpRequest({ method: 'GET', url: new URL(`${server.origin}/r?token=secret`), redirects: { max: 2 } }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(HttpRedirectError);
    expect(error).toMatchObject({ problem, status: 302 });
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('secret');
  });

  it('turns an idle socket into HttpNetworkError caused by HttpIdleTimeoutError (code ETIMEDOUT)', async () => {
    const server = await serve(() => undefined); // never answers
    const error = await httpRequest({ method: 'GET', url: new URL(`${server.origin}/slow`), timeoutMs: 50 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HttpNetworkError);
    expect((error as Error).cause).toBeInstanceOf(HttpIdleTimeoutError);
    expect((error as Error).cause).toMatchObject({ code: 'ETIMEDOUT', idleTimeoutMs: 50 });
  });
});
