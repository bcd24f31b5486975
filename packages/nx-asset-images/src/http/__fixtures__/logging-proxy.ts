/**
 * A loopback forward proxy for tests that logs what passes: absolute-form
 * requests (http targets) with their `Authorization` and `Proxy-Authorization`
 * headers, and `CONNECT` tunnels (https targets: only the target is visible).
 * With `credentials` (`user:password`), anything without the matching
 * `Proxy-Authorization: Basic` is answered 407.
 */
import * as http from 'node:http';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';

export interface ProxyLogEntry {
  kind: 'forward' | 'connect';
  /** The absolute URL (forward) or `host:port` (connect). */
  target: string;
  authorization: string | undefined;
  proxyAuthorization: string | undefined;
}

export interface LoggingProxy {
  url: string;
  log: ProxyLogEntry[];
  close(): Promise<void>;
}

export async function startLoggingProxy(options: { credentials?: string } = {}): Promise<LoggingProxy> {
  const log: ProxyLogEntry[] = [];
  const expected = options.credentials === undefined ? undefined : `Basic ${Buffer.from(options.credentials).toString('base64')}`;
  const sockets = new Set<net.Socket>();
  /** Logs the request; false when it lacks the proxy credentials asked for. */
  const record = (kind: ProxyLogEntry['kind'], req: http.IncomingMessage): boolean => {
    const proxyAuthorization = req.headers['proxy-authorization'];
    log.push({ kind, target: req.url ?? '', authorization: req.headers.authorization, proxyAuthorization });
    return expected === undefined || proxyAuthorization === expected;
  };
  const server = http.createServer((req, res) => {
    if (!record('forward', req)) return res.writeHead(407, { 'proxy-authenticate': 'Basic' }).end();
    let target: URL;
    try {
      target = new URL(req.url ?? '');
    } catch {
      return res.writeHead(400).end('not absolute-form');
    }
    const headers = { ...req.headers };
    delete headers['proxy-authorization'];
    delete headers['proxy-connection'];
    const upstream = http.request(target, { method: req.method, headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    sockets.add(client);
    if (!record('connect', req)) {
      client.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const [, host, port] = /^\[?([^\]]+?)\]?:(\d+)$/.exec(req.url ?? '') ?? [];
    const upstream = net.connect(Number(port), host!, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    log,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
