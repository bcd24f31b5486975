// A Docker-registry token server (the bearer flow's `realm`) for a real
// Distribution registry configured with `auth: token`: basic credentials in,
// an RS256 JWT out, signed by a throw-away key whose self-signed certificate
// (made with the openssl CLI) is the registry's `rootcertbundle` and travels
// in the token's `x5c` header. `signedLifetimeSeconds` below `statedLifetime`
// makes tokens expire earlier than the client was told (clock skew,
// revocation), so a long push meets a 401 in the middle.
import { execFileSync } from 'node:child_process';
import { createPrivateKey, randomUUID, sign, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';

export interface TokenServerOptions {
  /** Where key.pem and cert.pem are written. */
  dir: string;
  users: Record<string, string>;
  service?: string;
  issuer?: string;
  /** `exp` in the JWT, seconds from now (default 300). Distribution allows 60 s of leeway past `exp`, so -59 means about 1 s. */
  signedLifetimeSeconds?: number;
  /** `expires_in` told to the client (default: the signed lifetime). */
  statedLifetimeSeconds?: number;
}

export interface TokenServer {
  realm: string;
  service: string;
  issuer: string;
  certPath: string;
  /** Tokens handed out, and refusals. */
  issued: number;
  refused: number;
  /** The registry config.yml `auth:` block for this server. */
  registryAuthYaml(): string;
  close(): Promise<void>;
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

export async function startTokenServer(options: TokenServerOptions): Promise<TokenServer> {
  const keyPath = path.join(options.dir, 'token-key.pem');
  const certPath = path.join(options.dir, 'token-cert.pem');
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyPath, '-out', certPath, '-days', '1', '-subj', '/CN=nxai-token-server'],
    { stdio: 'ignore' },
  );
  const key = createPrivateKey(readFileSync(keyPath));
  const certDer = new X509Certificate(readFileSync(certPath)).raw;
  const service = options.service ?? 'nxai-registry';
  const issuer = options.issuer ?? 'nxai-token-server';
  const signed = options.signedLifetimeSeconds ?? 300;
  const stated = options.statedLifetimeSeconds ?? signed;

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const header = req.headers.authorization ?? '';
    const decoded = header.startsWith('Basic ') ? Buffer.from(header.slice(6), 'base64').toString('utf8') : '';
    const colon = decoded.indexOf(':');
    const user = colon > 0 ? decoded.slice(0, colon) : '';
    const password = colon > 0 ? decoded.slice(colon + 1) : '';
    if (url.pathname !== '/token' || !user || options.users[user] !== password) {
      server_.refused++;
      res.writeHead(401, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'bad credentials' }] }));
    }
    const access = url.searchParams
      .getAll('scope')
      .flatMap((s) => s.split(' '))
      .filter(Boolean)
      .map((scope) => {
        const [type, ...rest] = scope.split(':');
        const actions = rest.pop() ?? '';
        return { type, name: rest.join(':'), actions: actions.split(',').filter(Boolean) };
      });
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      iss: issuer,
      sub: user,
      aud: url.searchParams.get('service') ?? service,
      exp: now + signed,
      nbf: now - 5,
      iat: now,
      jti: randomUUID(),
      access,
    };
    const head = { typ: 'JWT', alg: 'RS256', x5c: [certDer.toString('base64')] };
    const input = `${b64url(JSON.stringify(head))}.${b64url(JSON.stringify(claims))}`;
    const token = `${input}.${b64url(sign('RSA-SHA256', Buffer.from(input), key))}`;
    server_.issued++;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ token, access_token: token, expires_in: stated, issued_at: new Date(now * 1000).toISOString() }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const realm = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`;
  const server_: TokenServer = {
    realm,
    service,
    issuer,
    certPath,
    issued: 0,
    refused: 0,
    registryAuthYaml: () =>
      `auth: { token: { realm: "${realm}", service: "${service}", issuer: "${issuer}", rootcertbundle: "${certPath}" } }`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return server_;
}
