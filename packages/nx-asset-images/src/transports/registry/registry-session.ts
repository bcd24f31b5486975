/**
 * A connection to one registry: base URL, keep-alive agents, credentials,
 * the auth challenge learned from `GET /v2/`, bearer tokens cached per scope
 * set, and `request()` which authenticates, re-authenticates once on a 401
 * (a token that expired during a long upload), follows redirects for reads
 * and turns unexpected answers into `RegistryError`s. Requests go through the
 * package's HTTP core (`http/http-request.ts`), which follows the redirects
 * and makes the per-hop credential decision.
 *
 * Where credentials go (`util/credential-origin.ts`): the Authorization
 * header is decided on every hop and sent only to the registry's own origin
 * (never after https -> http); token requests go only to the realm of the
 * challenge the registry's own origin sent (`/v2/`, or its first 401 when
 * `/v2/` needed none). A 401 from any other origin (blob storage after a
 * redirect) is a `ForeignAuthChallengeError`: never answered, never a reason
 * to re-authenticate, never a new challenge or realm.
 */
import type { Readable } from 'node:stream';
import { DigestMismatchError } from '../../oci/digest';
import { createAgents, destroyAgents, type HttpAgents } from '../../http/agents';
import { httpRequest, type RequestResponse } from '../../http/http-request';
import { discardResponseBody, headerValue, readResponseBody } from '../../http/response-body';
import { isRetryableStatus, parseRetryAfter } from '../../http/retry-policy';
import {
  ForeignAuthChallengeError,
  RegistryAuthError,
  RegistryError,
  StaleCredentialsError,
  parseRegistryErrorBody,
  registryErrorFromTransport,
} from './registry-errors';
import { registryBaseUrl } from './registry-url';
import { parseWwwAuthenticate, type AuthChallenge } from './www-authenticate';
import { basicAuthorization, fetchBearerToken, type BearerToken } from './token-auth';
import { hasCredentials, type RegistryCredentials } from './credentials';
import { DEFAULT_RETRY, withRetry, type RetryOptions } from './retry';
import { isDowngrade, maySendCredentials } from '../../util/credential-origin';
import { redactUrl } from './redact';

export interface RegistrySessionOptions {
  /** Registry host as in an image reference: `127.0.0.1:5000`, `docker.io`. */
  registry: string;
  credentials?: RegistryCredentials;
  insecureRegistries?: readonly string[];
  maxSockets?: number;
  /** Idle socket timeout per request (default 120 s). */
  timeoutMs?: number;
  retry?: Partial<RetryOptions>;
  signal?: AbortSignal;
}

export interface RegistryRequest {
  method: string;
  /** `/v2/...` under the base URL, or an absolute/relative `Location` from the registry. */
  path: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  /** Bytes, a factory opening a fresh stream of `contentLength` bytes on each call, or a stream that can be sent once. */
  body?: Buffer | (() => Readable) | Readable;
  contentLength?: number;
  /** Token scopes this request needs, e.g. `repository:asset/bert:pull,push`. */
  scopes: readonly string[];
  /** Statuses that are answers; anything else throws. */
  expect: readonly number[];
}

const MAX_REDIRECTS = 5;

export function repositoryScope(repository: string, actions: 'pull' | 'pull,push'): string {
  return `repository:${repository}:${actions}`;
}

function isOneShot(body: RegistryRequest['body']): boolean {
  return body !== undefined && !Buffer.isBuffer(body) && typeof body !== 'function';
}

export class RegistrySession {
  readonly registry: string;
  readonly baseUrl: URL;
  readonly retry: RetryOptions;
  readonly signal: AbortSignal | undefined;
  private readonly credentials: RegistryCredentials | undefined;
  private readonly agents: HttpAgents;
  private readonly timeoutMs: number;
  /** From the registry's own origin only. undefined: not asked yet; null: none needed (so far). */
  private challenge: AuthChallenge | null | undefined;
  private pinging: Promise<void> | undefined;
  private readonly tokens = new Map<string, Promise<BearerToken>>();

  constructor(options: RegistrySessionOptions) {
    this.registry = options.registry;
    this.baseUrl = registryBaseUrl(options.registry, options.insecureRegistries);
    this.credentials = options.credentials;
    this.agents = createAgents(options.maxSockets ?? 8);
    this.timeoutMs = options.timeoutMs ?? 120_000;
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.signal = options.signal;
  }

  close(): void {
    destroyAgents(this.agents);
  }

  /** The user name errors may mention (never a secret). */
  get user(): string | undefined {
    if (this.credentials?.username) return this.credentials.username;
    return this.credentials?.identityToken ? '<token>' : undefined;
  }

  resolveUrl(path: string, query?: Record<string, string>): URL {
    const url = new URL(path, this.baseUrl);
    for (const [k, v] of Object.entries(query ?? {})) url.searchParams.append(k, v);
    return url;
  }

  /** `request()` under the session's retry policy; only for requests whose body can be replayed as is. */
  requestWithRetry(request: RegistryRequest): Promise<RequestResponse> {
    return withRetry(() => this.request(request), { ...this.retry, ...(this.signal ? { signal: this.signal } : {}) });
  }

  /** One attempt (plus at most one re-authentication). The caller reads or discards the response body. */
  async request(request: RegistryRequest): Promise<RequestResponse> {
    await this.ensureChallenge();
    const follow = request.method === 'GET' || request.method === 'HEAD';
    let url = this.resolveUrl(request.path, request.query);
    let authorization = await this.authorization(request.scopes, false);
    let reauthenticated = false;
    for (;;) {
      const response = await this.send(request, url, authorization, follow);
      url = response.url; // where redirects led: the next try after a re-authentication starts there
      const own = response.credentialsAllowed;
      if (response.status === 401) {
        await discardResponseBody(response);
        const challenge = parseWwwAuthenticate(headerValue(response, 'www-authenticate'))[0];
        if (!own) {
          throw new ForeignAuthChallengeError({
            method: request.method,
            url,
            registry: this.registry,
            status: 401,
            downgrade: isDowngrade(this.baseUrl, url),
            ...(challenge ? { challengeScheme: challenge.scheme } : {}),
          });
        }
        if (challenge && !this.challenge) this.challenge = challenge; // /v2/ needed none, this path does
        const known = this.challenge;
        if (!reauthenticated && known && (hasCredentials(this.credentials) || known.scheme === 'bearer')) {
          reauthenticated = true;
          authorization = await this.authorization(request.scopes, true);
          if (isOneShot(request.body)) {
            throw new StaleCredentialsError(
              { method: request.method, url, registry: this.registry, status: 401 },
              `${request.method} ${url.host}: credentials expired during the request; renewed`,
            );
          }
          continue;
        }
        throw this.authError(request.method, url, 401);
      }
      if (response.status === 403) {
        const body = await readResponseBody(response, 64 * 1024).catch(() => Buffer.alloc(0));
        // Storage refusing a (presigned) URL is not the registry refusing our credentials.
        if (!own)
          throw new RegistryError({ method: request.method, url, registry: this.registry, status: 403, ...parseRegistryErrorBody(body) });
        throw this.authError(request.method, url, 403, parseRegistryErrorBody(body).code);
      }
      if (!request.expect.includes(response.status)) {
        const body = request.method === 'HEAD' ? Buffer.alloc(0) : await readResponseBody(response, 64 * 1024).catch(() => Buffer.alloc(0));
        const retryAfterMs = parseRetryAfter(headerValue(response, 'retry-after'));
        throw new RegistryError({
          method: request.method,
          url,
          registry: this.registry,
          status: response.status,
          ...parseRegistryErrorBody(body),
          ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
        });
      }
      return response;
    }
  }

  /** One request through the HTTP core; `authorization` goes to every hop of the registry's own origin (decided per hop), redirects are followed when `follow`. */
  private async send(request: RegistryRequest, url: URL, authorization: string | undefined, follow: boolean): Promise<RequestResponse> {
    const headers: Record<string, string> = { 'user-agent': 'nx-asset-images', ...request.headers };
    const body = typeof request.body === 'function' ? request.body() : request.body;
    try {
      return await httpRequest({
        method: request.method,
        url,
        headers,
        agents: this.agents,
        timeoutMs: this.timeoutMs,
        credentials: { owner: this.baseUrl, authorization: () => authorization },
        ...(follow ? { redirects: { max: MAX_REDIRECTS, except: request.expect } } : {}),
        ...(body !== undefined ? { body } : {}),
        ...(request.contentLength !== undefined ? { contentLength: request.contentLength } : {}),
        ...(this.signal ? { signal: this.signal } : {}),
      });
    } catch (error) {
      if (error instanceof DigestMismatchError || (error as Error).name === 'AbortError') throw error;
      const transport = registryErrorFromTransport(error, request.method, url, this.registry);
      throw transport instanceof RegistryError
        ? transport
        : new RegistryError({ method: request.method, url, registry: this.registry, cause: error });
    }
  }

  /**
   * The token realm comes from the registry's own origin (see `request()`), so it may
   * receive the credentials, except over plain HTTP when the registry is HTTPS.
   */
  private checkRealm(challenge: AuthChallenge): void {
    const sendsCredentials = !!this.credentials?.identityToken || !!(this.credentials?.username && this.credentials.password);
    if (!sendsCredentials || !challenge.params.realm) return;
    let realm: URL;
    try {
      realm = new URL(challenge.params.realm);
    } catch {
      return; // fetchBearerToken reports the unusable realm
    }
    if (!maySendCredentials(realm, this.baseUrl, [realm])) {
      throw new RegistryError(
        { method: 'GET', url: realm, registry: this.registry },
        `${this.registry} announced the token realm ${redactUrl(realm)}, which is not HTTPS while the registry is: credentials are not sent there`,
      );
    }
  }

  private authError(method: string, url: URL, status: number, code?: string): RegistryAuthError {
    const user = this.user;
    return new RegistryAuthError({
      method,
      url,
      registry: this.registry,
      status,
      ...(code ? { code } : {}),
      ...(user !== undefined ? { user } : {}),
    });
  }

  /**
   * `GET /v2/` once per session to learn whether and how to authenticate. One attempt: it is
   * part of a `request()`, whose caller retries it (a failed ping is asked again next time).
   */
  private ensureChallenge(): Promise<void> {
    if (this.challenge !== undefined) return Promise.resolve();
    this.pinging ??= (async () => {
      const url = this.resolveUrl('/v2/');
      const response = await this.send({ method: 'GET', path: '/v2/', scopes: [], expect: [] }, url, undefined, false);
      await discardResponseBody(response);
      if (response.status === 401) {
        this.challenge = parseWwwAuthenticate(headerValue(response, 'www-authenticate'))[0] ?? null;
      } else if (isRetryableStatus(response.status)) {
        const retryAfterMs = parseRetryAfter(headerValue(response, 'retry-after'));
        throw new RegistryError({
          method: 'GET',
          url,
          registry: this.registry,
          status: response.status,
          ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
        });
      } else {
        this.challenge = null; // 200, or a registry that does not implement the ping: go anonymous until a 401 says otherwise
      }
    })().finally(() => {
      this.pinging = undefined;
    });
    return this.pinging;
  }

  private async authorization(scopes: readonly string[], fresh: boolean): Promise<string | undefined> {
    const challenge = this.challenge;
    if (this.credentials?.registryToken && !fresh) return `Bearer ${this.credentials.registryToken}`;
    if (!challenge) return undefined;
    if (challenge.scheme === 'basic') {
      return this.credentials?.username && this.credentials.password ? basicAuthorization(this.credentials) : undefined;
    }
    if (challenge.scheme !== 'bearer') return undefined;
    const key = [...scopes].sort().join(' ');
    let pending = this.tokens.get(key);
    if (pending && !fresh) {
      const token = await pending.catch(() => undefined);
      if (token && token.expiresAt > Date.now()) return `Bearer ${token.token}`;
      if (this.tokens.get(key) === pending) this.tokens.delete(key);
    }
    pending = this.tokens.get(key);
    if (!pending || fresh) {
      this.checkRealm(challenge);
      // One attempt, like the ping: the request this token is for is what gets retried.
      pending = fetchBearerToken({
        registry: this.registry,
        challenge,
        scopes,
        agents: this.agents,
        timeoutMs: this.timeoutMs,
        ...(this.credentials ? { credentials: this.credentials } : {}),
        ...(this.signal ? { signal: this.signal } : {}),
      });
      this.tokens.set(key, pending);
      pending.catch(() => {
        if (this.tokens.get(key) === pending) this.tokens.delete(key);
      });
    }
    return `Bearer ${(await pending).token}`;
  }
}
