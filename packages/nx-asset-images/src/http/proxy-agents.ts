/**
 * Keep-alive agents that go through the proxy `proxy-env.ts` picks for each
 * target, so every client of the HTTP core (registry, sources, the Hub) honours
 * `HTTPS_PROXY`, `HTTP_PROXY` and `NO_PROXY` without knowing of them.
 *
 * - http targets: the request goes to the proxy with the absolute URL in its
 *   request line (RFC 9112 absolute-form), the socket pool is the proxy's.
 * - https targets: a `CONNECT host:port` tunnel through the proxy, then TLS
 *   with the target inside it (the proxy sees neither headers nor bytes);
 *   the pool keeps one tunnel per target origin.
 *
 * Credentials: the proxy's own (`user:password@` in its URL) go only to the
 * proxy, as `Proxy-Authorization`. The target's `Authorization` is decided per
 * hop by `http-request.ts` exactly as without a proxy: a proxy changes the
 * route, never who gets a token.
 *
 * Why not a library: https-proxy-agent and http-proxy-agent 9.1.0 (on
 * agent-base 9.0.0) were read and tried. They do load from this CommonJS
 * package (they are ESM-only, and every Node line we support has
 * require(esm)), they keep sockets alive per target (agent-base hands its
 * socket to http.Agent's pool), and they send Proxy-Authorization only to the
 * proxy. What keeps them out:
 * - a proxy that refuses the CONNECT (407, 403, 502) is handed back as the
 *   target's own response (a read-only socket replaying the proxy's answer),
 *   so a client reports "the registry answered 407" and the retry policy
 *   retries a proxy's 502 as if the origin gave it; here it is an
 *   `HttpProxyError` naming the proxy;
 * - nothing times the CONNECT answer out (their parse-proxy-response waits
 *   for `end` or `error` only, and the request's idle timeout starts only
 *   once the agent hands over a socket), so a silent proxy hangs a build;
 *   here `TUNNEL_TIMEOUT_MS`;
 * - with `DEBUG` naming them (or `*`), they log the proxy URL with its
 *   password, and http-proxy-agent the whole request head with the target's
 *   Authorization: the tokens this core keeps out of every message;
 * - each takes one fixed proxy, so the NO_PROXY routing stays ours anyway.
 * Fixing the first two from outside means reaching into their internals;
 * the tunnel below (`openTunnel`) is some forty lines. undici 8's
 * EnvHttpProxyAgent is a Dispatcher for fetch and undici's own client, not an
 * http.Agent for the node:http requests of `send-request.ts`.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import type { Duplex } from 'node:stream';
import * as tls from 'node:tls';
import { HttpProxyError } from './http-errors';
import { portOf, proxyAuthorization, proxyFor, type ProxySettings } from './proxy-env';

const TUNNEL_TIMEOUT_MS = 60_000;
const MAX_PROXY_HEAD_BYTES = 16 * 1024;

type ConnectCallback = (error: Error | null, socket: Duplex) => void;
interface AgentInternals {
  addRequest(req: http.ClientRequest, options: http.ClientRequestArgs): void;
}
const addRequestOf = (agent: http.Agent) => (http.Agent.prototype as unknown as AgentInternals).addRequest.bind(agent);

/** `host:port` with an IPv6 address in brackets. */
function authorityOf(host: string, port: number): string {
  return `${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${port}`;
}

function targetUrl(protocol: 'http:' | 'https:', options: http.ClientRequestArgs): URL {
  const host = options.host ?? options.hostname ?? 'localhost';
  const port = Number(options.port ?? (protocol === 'https:' ? 443 : 80));
  return new URL(`${protocol}//${authorityOf(host, port)}`);
}

function connectToProxy(proxy: URL): net.Socket {
  const host = proxy.hostname.replace(/^\[|\]$/g, '');
  const port = portOf(proxy);
  return proxy.protocol === 'https:'
    ? tls.connect({ host, port, ...(net.isIP(host) ? {} : { servername: host }) })
    : net.connect({ host, port });
}

/**
 * Opens a `CONNECT` tunnel to `authority` through `proxy`; resolves with the
 * socket once the proxy answered 200 (bytes after its answer head stay
 * readable), rejects with an `HttpProxyError` otherwise.
 */
export function openTunnel(proxy: URL, authority: string, timeoutMs = TUNNEL_TIMEOUT_MS): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = connectToProxy(proxy);
    let head = Buffer.alloc(0);
    const done = () => {
      socket.off('readable', onReadable);
      socket.off('error', onError);
      socket.off('end', onEnd);
      socket.setTimeout(0);
    };
    const fail = (status: number | undefined, reason: string, cause?: unknown) => {
      done();
      socket.destroy();
      reject(new HttpProxyError(proxy, authority, status, reason, cause !== undefined ? { cause } : undefined));
    };
    const onError = (error: Error) => fail(undefined, error.message, error);
    const onEnd = () => fail(undefined, 'the proxy closed the connection before answering');
    const onReadable = () => {
      for (let chunk: Buffer | null; (chunk = socket.read() as Buffer | null) !== null;) {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf('\r\n\r\n');
        if (end === -1) {
          if (head.length > MAX_PROXY_HEAD_BYTES) return fail(undefined, 'the proxy answered with an oversized head');
          continue;
        }
        const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head.subarray(0, end).toString('latin1'))?.[1] ?? NaN);
        if (status !== 200)
          return fail(Number.isNaN(status) ? undefined : status, Number.isNaN(status) ? 'not an HTTP answer' : `answered HTTP ${status}`);
        done();
        const rest = head.subarray(end + 4);
        if (rest.length > 0) socket.unshift(rest);
        return resolve(socket);
      }
    };
    socket.once(proxy.protocol === 'https:' ? 'secureConnect' : 'connect', () => {
      const auth = proxyAuthorization(proxy);
      socket.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n${auth ? `Proxy-Authorization: ${auth}\r\n` : ''}\r\n`);
    });
    socket.on('readable', onReadable);
    socket.on('error', onError);
    socket.on('end', onEnd);
    socket.setTimeout(timeoutMs, () => fail(undefined, `no answer in ${timeoutMs} ms`));
  });
}

/** For http targets: to the proxy in absolute-form, or direct when `NO_PROXY` says so. */
export class ForwardProxyAgent extends http.Agent {
  constructor(
    options: http.AgentOptions,
    private readonly settings: ProxySettings,
  ) {
    super(options);
  }

  addRequest(req: http.ClientRequest, options: http.ClientRequestArgs): void {
    const target = targetUrl('http:', options);
    const proxy = proxyFor(this.settings, target);
    if (proxy === undefined) return addRequestOf(this)(req, options);
    req.path = `${target.origin}${req.path}`;
    const auth = proxyAuthorization(proxy);
    if (auth !== undefined) req.setHeader('proxy-authorization', auth);
    const host = proxy.hostname.replace(/^\[|\]$/g, '');
    addRequestOf(this)(req, { ...options, host, hostname: host, port: portOf(proxy), ...{ proxyTls: proxy.protocol === 'https:' } });
  }

  override createConnection(
    options: http.ClientRequestArgs & { proxyTls?: boolean },
    callback?: ConnectCallback,
  ): Duplex | null | undefined {
    if (!options.proxyTls) return super.createConnection(options, callback);
    const host = options.host ?? 'localhost';
    return tls.connect({ host, port: Number(options.port), ...(net.isIP(host) ? {} : { servername: host }) });
  }
}

/** For https targets: TLS inside a `CONNECT` tunnel through the proxy, or direct when `NO_PROXY` says so. */
export class TunnelingAgent extends https.Agent {
  constructor(
    options: https.AgentOptions,
    private readonly settings: ProxySettings,
  ) {
    super(options);
  }

  override createConnection(options: http.ClientRequestArgs, callback?: ConnectCallback): Duplex | null | undefined {
    const target = targetUrl('https:', options);
    const proxy = proxyFor(this.settings, target);
    if (proxy === undefined || callback === undefined) return super.createConnection(options, callback);
    openTunnel(proxy, target.host).then(
      (socket) => {
        let secure: Duplex | null | undefined;
        try {
          secure = super.createConnection({ ...options, socket } as http.ClientRequestArgs);
        } catch (error) {
          socket.destroy();
          return callback(error as Error, socket);
        }
        callback(null, secure!);
      },
      (error: Error) => callback(error, undefined as unknown as Duplex),
    );
    return undefined;
  }
}
