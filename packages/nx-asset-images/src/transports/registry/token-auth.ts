/**
 * The bearer token flow: GET the challenge's realm with `service` and
 * `scope`s (basic credentials when we have them; an identity token is
 * exchanged with the OAuth2 refresh_token grant), take `token` or
 * `access_token`.
 */
import type { AuthChallenge } from './www-authenticate';
import type { RegistryCredentials } from './credentials';
import { RegistryAuthError, RegistryError, parseRegistryErrorBody, registryErrorFromTransport } from './registry-errors';
import { agentFor, type HttpAgents } from '../../http/agents';
import { headerValue, readResponseBody } from '../../http/response-body';
import { sendHttpRequest } from '../../http/send-request';
import { parseRetryAfter } from '../../http/retry-policy';

export interface BearerToken {
  token: string;
  /** Epoch ms after which we fetch a new one without waiting for a 401. */
  expiresAt: number;
}

export function basicAuthorization(credentials: RegistryCredentials): string {
  return `Basic ${Buffer.from(`${credentials.username ?? ''}:${credentials.password ?? ''}`).toString('base64')}`;
}

export function tokenUrl(challenge: AuthChallenge, scopes: readonly string[]): URL {
  const realm = challenge.params.realm;
  if (!realm) throw new Error('bearer challenge without realm');
  const url = new URL(realm);
  if (challenge.params.service) url.searchParams.set('service', challenge.params.service);
  for (const scope of scopes) url.searchParams.append('scope', scope);
  return url;
}

export interface FetchTokenOptions {
  registry: string;
  challenge: AuthChallenge;
  scopes: readonly string[];
  credentials?: RegistryCredentials;
  agents: HttpAgents;
  timeoutMs?: number;
  signal?: AbortSignal;
  now?: () => number;
}

export async function fetchBearerToken(options: FetchTokenOptions): Promise<BearerToken> {
  const { challenge, scopes, credentials, registry } = options;
  const url = tokenUrl(challenge, scopes);
  const agent = agentFor(options.agents, url);
  const common = {
    agent,
    ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  };
  let method = 'GET';
  let response;
  try {
    if (credentials?.identityToken) {
      method = 'POST';
      const form = new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: credentials.identityToken,
        client_id: 'nx-asset-images',
      });
      if (challenge.params.service) form.set('service', challenge.params.service);
      form.set('scope', scopes.join(' '));
      const postUrl = new URL(url.origin + url.pathname);
      response = await sendHttpRequest({
        ...common,
        method,
        url: postUrl,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: Buffer.from(form.toString()),
      });
    } else {
      const headers: Record<string, string> = {};
      if (credentials?.username && credentials.password) headers.authorization = basicAuthorization(credentials);
      response = await sendHttpRequest({ ...common, method, url, headers });
    }
  } catch (error) {
    const transport = registryErrorFromTransport(error, method, url, registry);
    throw transport instanceof RegistryError ? transport : new RegistryError({ method, url, registry, cause: error });
  }
  const body = await readResponseBody(response, 1024 * 1024);
  const user = credentials?.username ?? (credentials?.identityToken ? '<token>' : undefined);
  if (response.status === 401 || response.status === 403) {
    throw new RegistryAuthError({
      method,
      url,
      registry,
      status: response.status,
      ...parseRegistryErrorBody(body),
      ...(user !== undefined ? { user } : {}),
    });
  }
  if (response.status !== 200) {
    const retryAfterMs = parseRetryAfter(headerValue(response, 'retry-after'));
    throw new RegistryError({
      method,
      url,
      registry,
      status: response.status,
      ...parseRegistryErrorBody(body),
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    });
  }
  let parsed: { token?: string; access_token?: string; expires_in?: number };
  try {
    parsed = JSON.parse(body.toString('utf8')) as typeof parsed;
  } catch (error) {
    throw new RegistryError(
      { method, url, registry, status: response.status, cause: error },
      `token endpoint of ${registry} answered with something that is not JSON`,
    );
  }
  const token = parsed.token || parsed.access_token;
  if (!token)
    throw new RegistryError({ method, url, registry, status: response.status }, `token endpoint of ${registry} answered without a token`);
  const lifetimeSeconds = typeof parsed.expires_in === 'number' && parsed.expires_in > 0 ? parsed.expires_in : 60;
  const now = (options.now ?? Date.now)();
  return { token, expiresAt: now + Math.max(0, lifetimeSeconds - 10) * 1000 };
}
