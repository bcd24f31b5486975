// A loopback HTTP proxy in front of a real registry that misbehaves on
// purpose, with a seeded random source so a failing run can be replayed:
// it drops connections before forwarding, drops them halfway through a
// request body, answers 500/429 without forwarding, or forwards and then
// answers 500 anyway (the registry did the work, the client thinks it did
// not), or forwards and cuts the response body off halfway (`cut-response`:
// the headers promise every byte, half come). Hosts header is kept, so the registry's Location headers point back
// at the proxy. Bounded: it stops injecting after `maxFaults`.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { seededRandom } from '../../packages/nx-asset-images/src/transports/registry/__fixtures__/fake-registry';

export { seededRandom };

export type ProxyFault = 'drop' | 'drop-mid-body' | '500' | '429' | '500-after' | 'cut-response';

export interface FaultProxyOptions {
  /** `127.0.0.1:5000` */
  target: string;
  seed: number;
  /** Probability that a request gets a fault. */
  rate: number;
  faults?: readonly ProxyFault[];
  /** Random faults stop after this many (the `always` ones do not count). */
  maxFaults?: number;
  /** A fault this request always gets, whatever the random draw (e.g. every manifest PUT answered 500 after the registry took it). */
  always?: (request: { method: string; path: string }) => ProxyFault | undefined;
}

export interface FaultProxy {
  host: string;
  injected: Array<{ fault: ProxyFault; method: string; path: string }>;
  forwarded: number;
  /** Every request forwarded, with its Range header and the registry's status. */
  requests: Array<{ method: string; path: string; range?: string; status?: number }>;
  close(): Promise<void>;
}

export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const random = seededRandom(options.seed);
  const faults = options.faults ?? ['drop', 'drop-mid-body', '500', '429', '500-after'];
  const [targetHost, targetPort] = options.target.split(':') as [string, string];
  const agent = new http.Agent({ keepAlive: true });
  const proxy: FaultProxy = { host: '', injected: [], forwarded: 0, requests: [], close: async () => undefined };

  let drawn = 0;
  const server = http.createServer((req, res) => {
    const path = req.url ?? '/';
    let fault = path === '/v2/' ? undefined : options.always?.({ method: req.method ?? '', path: path.split('?')[0]! });
    if (!fault && path !== '/v2/' && drawn < (options.maxFaults ?? Infinity) && random() < options.rate) {
      fault = faults[Math.floor(random() * faults.length)]!;
      drawn++;
    }
    if (fault) proxy.injected.push({ fault, method: req.method ?? '', path: path.split('?')[0]! });
    if (fault === 'drop') return req.socket.destroy();
    if (fault === '500' || fault === '429') {
      req.resume();
      const body = JSON.stringify({ errors: [{ code: 'UNKNOWN', message: 'injected by fault proxy' }] });
      res.writeHead(Number(fault), {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
        ...(fault === '429' ? { 'retry-after': '0' } : {}),
      });
      return res.end(body);
    }
    proxy.forwarded++;
    const record: FaultProxy['requests'][number] = {
      method: req.method ?? '',
      path: path.split('?')[0]!,
      ...(req.headers.range ? { range: req.headers.range } : {}),
    };
    proxy.requests.push(record);
    const upstream = http.request(
      { host: targetHost, port: Number(targetPort), method: req.method, path, headers: req.headers, agent },
      (up) => {
        record.status = up.statusCode;
        if (fault === 'cut-response') {
          const half = Math.floor(Number(up.headers['content-length'] ?? 0) / 2);
          res.writeHead(up.statusCode ?? 502, up.headers);
          let sent = 0;
          up.on('data', (chunk: Buffer) => {
            if (sent >= half) return;
            const part = chunk.subarray(0, half - sent);
            sent += part.length;
            res.write(part, () => {
              if (sent >= half) {
                up.destroy();
                res.socket?.destroy();
              }
            });
          });
          return;
        }
        if (fault === '500-after') {
          up.resume();
          res.writeHead(500, { 'content-type': 'application/json', 'content-length': 2 });
          return res.end('{}');
        }
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on('error', () => req.socket.destroy());
    if (fault === 'drop-mid-body') {
      const length = Number(req.headers['content-length'] ?? 0);
      let seen = 0;
      req.on('data', (chunk: Buffer) => {
        seen += chunk.length;
        if (seen >= length / 2) {
          upstream.destroy();
          req.socket.destroy();
        } else upstream.write(chunk);
      });
      req.on('end', () => upstream.end());
      if (length === 0) {
        upstream.destroy();
        req.socket.destroy();
      }
      return;
    }
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      agent.destroy();
      server.close(() => resolve());
    });
  return proxy;
}
