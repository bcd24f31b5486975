/**
 * Structured registry errors: method, redacted URL, HTTP status, the
 * registry's error code, the registry host. Never credentials.
 */
import { HttpNetworkError, HttpRedirectError } from '../../http/http-errors';
import { redactUrl } from './redact';

export interface RegistryErrorFields {
  method: string;
  url: string | URL;
  registry: string;
  status?: number;
  /** First `code` of the registry's `{"errors":[...]}` body, e.g. `BLOB_UNKNOWN`. */
  code?: string;
  /** The registry's own message for `code`. */
  detail?: string;
  /** Milliseconds the registry asked us to wait (Retry-After). */
  retryAfterMs?: number;
  cause?: unknown;
}

export class RegistryError extends Error {
  override readonly name: string = 'RegistryError';
  readonly method: string;
  /** Redacted: no userinfo, no token or upload-state query values. */
  readonly url: string;
  readonly registry: string;
  readonly status?: number;
  readonly code?: string;
  readonly retryAfterMs?: number;

  constructor(fields: RegistryErrorFields, message?: string) {
    const url = redactUrl(fields.url);
    super(message ?? describe(fields, url), fields.cause !== undefined ? { cause: fields.cause } : undefined);
    this.method = fields.method;
    this.url = url;
    this.registry = fields.registry;
    if (fields.status !== undefined) this.status = fields.status;
    if (fields.code !== undefined) this.code = fields.code;
    if (fields.retryAfterMs !== undefined) this.retryAfterMs = fields.retryAfterMs;
  }
}

/** 401/403, or a token endpoint that refused us. The message names the registry and the user, never the secret. */
export class RegistryAuthError extends RegistryError {
  override readonly name: string = 'RegistryAuthError';
  readonly user?: string;

  constructor(fields: RegistryErrorFields & { user?: string }) {
    const who = fields.user !== undefined ? ` for user ${JSON.stringify(fields.user)}` : ' (anonymous)';
    const status =
      fields.status !== undefined
        ? ` (${fields.method} ${redactUrl(fields.url)} -> ${fields.status}${fields.code ? ` ${fields.code}` : ''})`
        : '';
    super(fields, `authentication to ${fields.registry} failed${who}${status}`);
    if (fields.user !== undefined) this.user = fields.user;
  }
}

/**
 * A 401 from an origin that is not the registry's: a host a redirect led to
 * (blob storage, a CDN), or the registry itself after a redirect from https to
 * plain http. Registry credentials and tokens go only to the registry's own
 * origin and to the token realm it announced, so that challenge is never
 * answered (no credentials, no token request, no re-authentication). The
 * message names the registry, the redirect origin and what happened, never a
 * secret.
 */
export class ForeignAuthChallengeError extends RegistryError {
  override readonly name: string = 'ForeignAuthChallengeError';
  /** `host:port` that asked for credentials. */
  readonly redirectHost: string;
  /** Its origin, e.g. `http://storage.example.com:9000`. */
  readonly redirectOrigin: string;
  /** The scheme it asked for, lower-cased (`basic`, `bearer`), when it sent a challenge. */
  readonly challengeScheme?: string;
  /** True when the redirect went from https to http. */
  readonly downgrade: boolean;

  /** `fields.url` is the URL that answered 401 (where the redirect led). */
  constructor(fields: RegistryErrorFields & { challengeScheme?: string; downgrade?: boolean }) {
    const target = new URL(fields.url.toString());
    const asked = fields.challengeScheme ? `asking for ${fields.challengeScheme} credentials` : 'without a usable challenge';
    const where = fields.downgrade ? `${target.origin} (plain HTTP after HTTPS)` : target.origin;
    super(
      { ...fields, status: fields.status ?? 401 },
      `${fields.method} ${redactUrl(target)}: ${fields.registry} redirected to ${where}, which answered 401 ${asked}; ` +
        `credentials for ${fields.registry} are sent only to ${fields.registry} and the token realm it announced, so none were sent to ${target.host}` +
        (fields.downgrade ? '' : ' (storage behind a registry must be reached through a presigned URL)'),
    );
    this.redirectHost = target.host;
    this.redirectOrigin = target.origin;
    if (fields.challengeScheme !== undefined) this.challengeScheme = fields.challengeScheme;
    this.downgrade = fields.downgrade ?? false;
  }
}

/**
 * A 401 on a request whose body could not be sent twice (a chunk read from a
 * stream): the session fetched new credentials; the caller retries (resumes).
 */
export class StaleCredentialsError extends RegistryError {
  override readonly name: string = 'StaleCredentialsError';
}

/**
 * A failure of the HTTP core as a `RegistryError` (a connection that failed,
 * a redirect that cannot be followed), with the URL of the hop it happened on.
 * Other errors (an abort, a request body's own error) are returned as they are.
 */
export function registryErrorFromTransport(error: unknown, method: string, url: URL, registry: string): unknown {
  if (error instanceof HttpNetworkError) return new RegistryError({ method, url: error.target, registry, cause: error.cause });
  if (error instanceof HttpRedirectError) {
    return new RegistryError(
      { method, url: error.target, registry, status: error.status, cause: error },
      `${method} ${error.target.host}: ${error.reason}`,
    );
  }
  return error;
}

function describe(fields: RegistryErrorFields, url: string): string {
  const head = `${fields.method} ${url}`;
  if (fields.status === undefined) {
    const reason = fields.cause instanceof Error ? fields.cause.message : 'request failed';
    return `${head} failed: ${reason}`;
  }
  const code = fields.code ? ` ${fields.code}` : '';
  const detail = fields.detail ? `: ${fields.detail}` : '';
  return `${head} failed: ${fields.status}${code}${detail}`;
}

/** Reads `{"errors":[{"code","message"}]}`; anything else yields nothing. */
export function parseRegistryErrorBody(body: Buffer | string): { code?: string; detail?: string } {
  try {
    const parsed = JSON.parse(String(body)) as { errors?: Array<{ code?: unknown; message?: unknown }> };
    const first = Array.isArray(parsed.errors) ? parsed.errors[0] : undefined;
    const out: { code?: string; detail?: string } = {};
    if (first && typeof first.code === 'string') out.code = first.code;
    if (first && typeof first.message === 'string') out.detail = first.message;
    return out;
  } catch {
    return {};
  }
}
