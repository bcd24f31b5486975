/**
 * Which proxy a request goes through, from the environment as curl and Docker
 * read it. Pure.
 *
 * - `https_proxy` / `HTTPS_PROXY` for https URLs, `http_proxy` / `HTTP_PROXY`
 *   for http URLs; the lower-case name wins when both are set (curl's order).
 *   A value without a scheme is `http://` (curl); `http://` and `https://`
 *   proxies are supported, with `user:password@` for Basic proxy
 *   authentication. An empty value is unset.
 * - `no_proxy` / `NO_PROXY` (lower case first): hosts reached directly, a
 *   comma- or space-separated list. `*` alone: every host. `example.com`,
 *   `.example.com` and `*.example.com` match that host and every subdomain;
 *   `host:port` only that port; an IP address (v4 or `[v6]`) matches itself.
 *   As with curl, loopback is not implicitly direct: list `localhost` and
 *   `127.0.0.1` to keep them off the proxy. CIDR ranges are not supported.
 *
 * Why not a library: proxy-from-env 2.1.0 (the reader behind TooTallNate's
 * proxy-agent) reads these variables differently from curl in ways users
 * would hit; its own tests pin them, and run on the table of
 * proxy-env.spec.ts it differs in four rows. `NO_PROXY=example.com` matches
 * only that host, not `sub.example.com` (curl matches both, so
 * `NO_PROXY=huggingface.co` would still send the redirect to
 * `cdn-lfs.huggingface.co` through the proxy; its issue #29 is open);
 * `.example.com` and `*.example.com` leave `example.com` itself on the
 * proxy (curl drops a leading dot and matches it); `https_proxy=host:port`
 * without a scheme becomes `https://host:port` (curl: `http://`), a TLS
 * handshake with a plain proxy. It also reads only `process.env`, where
 * `createAgents` takes the environment as an argument. The parsing and
 * matching below are some thirty lines.
 */

export interface NoProxyRule {
  /** Lower-case hostname or IP (IPv6 without brackets); `*`: every host. */
  host: string;
  port?: number;
}

export interface ProxySettings {
  http?: URL;
  https?: URL;
  noProxy: NoProxyRule[];
}

/** A proxy variable whose value is not a usable proxy URL; `variable` is its name (values may hold credentials: never shown). */
export class InvalidProxyEnvError extends Error {
  override readonly name = 'InvalidProxyEnvError';
  constructor(
    readonly variable: string,
    readonly reason: string,
  ) {
    super(`${variable} ${reason}; expected http://[user:password@]host:port`);
  }
}

function firstSet(env: NodeJS.ProcessEnv, names: readonly string[]): [string, string] | undefined {
  for (const name of names) {
    const value = env[name]?.trim();
    if (value) return [name, value];
  }
  return undefined;
}

function proxyUrl(env: NodeJS.ProcessEnv, names: readonly string[]): URL | undefined {
  const found = firstSet(env, names);
  if (found === undefined) return undefined;
  const [variable, value] = found;
  let url: URL;
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`);
  } catch {
    throw new InvalidProxyEnvError(variable, 'is not a URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new InvalidProxyEnvError(variable, `has the unsupported scheme ${url.protocol}`);
  return url;
}

function bareHost(host: string): string {
  return host.replace(/^\[|\]$/g, '').toLowerCase();
}

function parseNoProxy(value: string | undefined): NoProxyRule[] {
  if (value === undefined) return [];
  return value
    .split(/[\s,]+/)
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
    .map((entry): NoProxyRule => {
      if (entry === '*') return { host: '*' };
      const withPort = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(entry);
      const host = bareHost((withPort ? withPort[1]! : entry).replace(/^\*?\./, ''));
      return withPort ? { host, port: Number(withPort[2]) } : { host };
    });
}

export function readProxySettings(env: NodeJS.ProcessEnv): ProxySettings {
  const http = proxyUrl(env, ['http_proxy', 'HTTP_PROXY']);
  const https = proxyUrl(env, ['https_proxy', 'HTTPS_PROXY']);
  return {
    ...(http ? { http } : {}),
    ...(https ? { https } : {}),
    noProxy: parseNoProxy(firstSet(env, ['no_proxy', 'NO_PROXY'])?.[1]),
  };
}

/** The port of `url`, defaults filled in. */
export function portOf(url: URL): number {
  return url.port !== '' ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
}

function bypasses(rules: readonly NoProxyRule[], url: URL): boolean {
  const host = bareHost(url.hostname);
  const port = portOf(url);
  return rules.some((rule) => {
    if (rule.host === '*') return true;
    if (rule.port !== undefined && rule.port !== port) return false;
    return host === rule.host || host.endsWith(`.${rule.host}`);
  });
}

/** The proxy for `url`, or undefined: go direct. */
export function proxyFor(settings: ProxySettings, url: URL): URL | undefined {
  const proxy = url.protocol === 'https:' ? settings.https : url.protocol === 'http:' ? settings.http : undefined;
  if (proxy === undefined || bypasses(settings.noProxy, url)) return undefined;
  return proxy;
}

/** True when some request may go through a proxy. */
export function hasProxy(settings: ProxySettings): boolean {
  return settings.http !== undefined || settings.https !== undefined;
}

/** `Basic <base64>` of the proxy URL's user and password (decoded), or undefined. */
export function proxyAuthorization(proxy: URL): string | undefined {
  if (proxy.username === '' && proxy.password === '') return undefined;
  const credentials = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
  return `Basic ${Buffer.from(credentials).toString('base64')}`;
}
