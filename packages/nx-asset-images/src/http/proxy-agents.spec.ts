// The HTTP core through a loopback proxy that logs what passes: http targets in absolute-form, https targets in a
// CONNECT tunnel (TLS to a server with a throw-away self-signed certificate made by the openssl CLI), NO_PROXY,
// proxy credentials, and the credential-origin rule unchanged by the proxy.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startLoggingProxy, type LoggingProxy } from './__fixtures__/logging-proxy';
import { createAgents, destroyAgents, type HttpAgents } from './agents';
import { httpRequest } from './http-request';
import { HttpNetworkError, HttpProxyError } from './http-errors';
import { openTunnel } from './proxy-agents';
import { readResponseBody } from './response-body';

describe('agents through HTTP_PROXY / HTTPS_PROXY', () => {
  let proxy: LoggingProxy;
  let securedProxy: LoggingProxy;
  let plain: http.Server;
  let secure: https.Server;
  let plainUrl: string;
  let secureUrl: string;
  let ca: Buffer;
  const seen: { server: string; authorization: string | undefined }[] = [];
  const agentsList: HttpAgents[] = [];
  const agents = (env: NodeJS.ProcessEnv) => {
    const a = createAgents(2, env);
    agentsList.push(a);
    return a;
  };

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nxai-tls-'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost',
      ],
      { stdio: 'ignore' },
    );
    ca = readFileSync(join(dir, 'cert.pem'));
    const key = readFileSync(join(dir, 'key.pem'));
    rmSync(dir, { recursive: true, force: true });
    const handler = (server: string) => (req: http.IncomingMessage, res: http.ServerResponse) => {
      seen.push({ server, authorization: req.headers.authorization });
      if (req.url === '/to-other') return res.writeHead(302, { location: `${plainUrl}/landed` }).end();
      res.end(`${server} ${req.url}`);
    };
    plain = http.createServer(handler('plain'));
    secure = https.createServer({ key, cert: ca }, handler('secure'));
    await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
    await new Promise<void>((r) => secure.listen(0, '127.0.0.1', r));
    plainUrl = `http://127.0.0.1:${(plain.address() as AddressInfo).port}`;
    secureUrl = `https://localhost:${(secure.address() as AddressInfo).port}`;
    proxy = await startLoggingProxy();
    securedProxy = await startLoggingProxy({ credentials: 'proxyuser:proxypass' });
  });
  afterAll(async () => {
    agentsList.forEach(destroyAgents);
    await Promise.all([proxy.close(), securedProxy.close()]);
    plain.closeAllConnections();
    secure.closeAllConnections();
    plain.close();
    secure.close();
  });
  beforeEach(() => {
    proxy.log.length = 0;
    securedProxy.log.length = 0;
    seen.length = 0;
  });

  const get = async (url: string, a: HttpAgents, token?: string) => {
    const response = await httpRequest({
      method: 'GET',
      url: new URL(url),
      agents: a,
      redirects: { max: 3 },
      ...(token ? { credentials: { owner: new URL(url), authorization: () => `Bearer ${token}` } } : {}),
    });
    return (await readResponseBody(response)).toString();
  };
  // The throw-away CA for the https server: a custom https agent option, set through the env-made agents' options.
  const withCa = (a: HttpAgents) => {
    a.https.options.ca = ca;
    return a;
  };

  it('an http target goes to the proxy in absolute-form, keeping its Authorization (the origin rule), twice on one socket', async () => {
    const a = agents({ HTTP_PROXY: proxy.url });
    expect(await get(`${plainUrl}/one`, a, 'tok')).toBe('plain /one');
    expect(await get(`${plainUrl}/two`, a, 'tok')).toBe('plain /two');
    expect(proxy.log).toEqual([
      { kind: 'forward', target: `${plainUrl}/one`, authorization: 'Bearer tok', proxyAuthorization: undefined },
      { kind: 'forward', target: `${plainUrl}/two`, authorization: 'Bearer tok', proxyAuthorization: undefined },
    ]);
  });

  it('a redirect to another origin through the proxy carries no Authorization', async () => {
    const a = agents({ HTTPS_PROXY: proxy.url, HTTP_PROXY: proxy.url });
    withCa(a);
    expect(await get(`${secureUrl}/to-other`, a, 'tok')).toBe('plain /landed');
    expect(seen).toEqual([
      { server: 'secure', authorization: 'Bearer tok' },
      { server: 'plain', authorization: undefined },
    ]);
    // The tunnel shows the proxy only the target; the plain hop shows that it has no token.
    expect(proxy.log.map(({ kind, target, authorization }) => ({ kind, target, authorization }))).toEqual([
      { kind: 'connect', target: new URL(secureUrl).host, authorization: undefined },
      { kind: 'forward', target: `${plainUrl}/landed`, authorization: undefined },
    ]);
  });

  it('an https target goes through a CONNECT tunnel, TLS inside it', async () => {
    const a = withCa(agents({ https_proxy: proxy.url }));
    expect(await get(`${secureUrl}/x`, a)).toBe('secure /x');
    expect(await get(`${secureUrl}/y`, a)).toBe('secure /y');
    expect(proxy.log.map((e) => e.kind)).toEqual(['connect']); // kept alive: one tunnel
  });

  it('NO_PROXY keeps a host off the proxy', async () => {
    const a = agents({ HTTP_PROXY: proxy.url, NO_PROXY: '127.0.0.1' });
    expect(await get(`${plainUrl}/direct`, a)).toBe('plain /direct');
    expect(proxy.log).toEqual([]);
  });

  it('proxy credentials from the proxy URL go to the proxy only, as Proxy-Authorization', async () => {
    const credentialed = securedProxy.url.replace('http://', 'http://proxyuser:proxypass@');
    const a = withCa(agents({ HTTP_PROXY: credentialed, HTTPS_PROXY: credentialed }));
    expect(await get(`${plainUrl}/p`, a)).toBe('plain /p');
    expect(await get(`${secureUrl}/s`, a)).toBe('secure /s');
    const basic = `Basic ${Buffer.from('proxyuser:proxypass').toString('base64')}`;
    expect(securedProxy.log.map((e) => [e.kind, e.proxyAuthorization])).toEqual([
      ['forward', basic],
      ['connect', basic],
    ]);
    expect(seen.every((s) => s.authorization === undefined)).toBe(true);
  });

  it('a proxy refusing the tunnel is a network error naming the proxy without its credentials', async () => {
    const a = withCa(agents({ HTTPS_PROXY: securedProxy.url.replace('http://', 'http://proxyuser:wrong@') }));
    const error = await get(`${secureUrl}/s`, a).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HttpNetworkError);
    expect((error as Error).message).toContain(`proxy ${securedProxy.url}/: CONNECT ${new URL(secureUrl).host}: answered HTTP 407`);
    expect((error as Error).message).not.toContain('wrong');
  });

  it('a proxy that accepts but never answers the CONNECT fails after the tunnel timeout instead of hanging', async () => {
    const held = new Set<net.Socket>();
    const silent = net.createServer((socket) => held.add(socket));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const port = (silent.address() as AddressInfo).port;
      const error = await openTunnel(new URL(`http://127.0.0.1:${port}`), 'localhost:443', 200).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(HttpProxyError);
      expect((error as Error).message).toBe(`proxy http://127.0.0.1:${port}/: CONNECT localhost:443: no answer in 200 ms`);
    } finally {
      held.forEach((socket) => socket.destroy());
      await new Promise((r) => silent.close(r));
    }
  });
});
