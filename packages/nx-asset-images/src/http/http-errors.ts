/**
 * Failures of the HTTP core below any protocol: the connection failed, or a
 * redirect could not be followed. Clients (registry, downloader) turn them into
 * their own errors. URLs are redacted; no header is ever part of an error.
 */
import { redactUrl } from '../util/redact-url';

/** A socket stayed idle longer than the timeout; `code` is `ETIMEDOUT` (retryable). */
export class HttpIdleTimeoutError extends Error {
  override readonly name = 'HttpIdleTimeoutError';
  readonly code = 'ETIMEDOUT';
  constructor(readonly idleTimeoutMs: number) {
    super(`no data for ${idleTimeoutMs} ms`);
  }
}

/** One hop failed before a response head arrived (refused, reset, timed out). `cause` is the socket's error. */
export class HttpNetworkError extends Error {
  override readonly name = 'HttpNetworkError';
  /** Redacted URL of the hop that failed (after redirects: where they led). */
  readonly url: string;
  constructor(
    readonly method: string,
    /** The hop's URL, for clients that report it their own way (redact before printing). */
    readonly target: URL,
    cause: unknown,
  ) {
    const url = redactUrl(target);
    super(`${method} ${url}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.url = url;
  }
}

export type RedirectProblem = 'no-location' | 'too-many' | 'invalid-location' | 'unsupported-protocol';

/** A redirect that cannot be followed. `url` (redacted) is the hop that answered it. */
export class HttpRedirectError extends Error {
  override readonly name = 'HttpRedirectError';
  readonly url: string;
  constructor(
    readonly problem: RedirectProblem,
    readonly method: string,
    /** The hop that answered with the redirect. */
    readonly target: URL,
    readonly status: number,
    /** What the problem is in words, e.g. `more than 10 redirects`. */
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`${method} ${redactUrl(target)}: ${reason}`, options);
    this.url = redactUrl(target);
  }
}

/** A proxy refused to open a tunnel (`CONNECT`) or closed it before answering. `proxy` is redacted (no credentials). */
export class HttpProxyError extends Error {
  override readonly name = 'HttpProxyError';
  readonly proxy: string;
  constructor(
    proxy: URL,
    /** `host:port` the tunnel was for. */
    readonly authority: string,
    /** The proxy's answer; undefined when it gave none. */
    readonly status: number | undefined,
    reason: string,
    options?: { cause?: unknown },
  ) {
    const shown = redactUrl(proxy);
    super(`proxy ${shown}: CONNECT ${authority}: ${reason}${status === 407 ? ' (check the credentials of the proxy URL)' : ''}`, options);
    this.proxy = shown;
  }
}
