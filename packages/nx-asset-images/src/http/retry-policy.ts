/**
 * The one retry policy of the HTTP clients (registry session, remote-source
 * downloader): which answers are worth another attempt, `Retry-After`,
 * exponential backoff with jitter, capped per delay and bounded in attempts
 * and total time, and an optional progress test.
 *
 * Retryable statuses:
 *
 * | status                                   | retried | why                                          |
 * | ---------------------------------------- | ------- | -------------------------------------------- |
 * | 408 Request Timeout                      | yes     | the server gave up waiting; a new try may do |
 * | 425 Too Early                            | yes     | the server asks for a replay later           |
 * | 429 Too Many Requests                    | yes     | rate limit: wait (Retry-After) and try again |
 * | 500, 502, 503, 504 and other 5xx         | yes     | a server or gateway in trouble, transient    |
 * | 501 Not Implemented                      | no      | the server does not do this: it never will   |
 * | 505 HTTP Version Not Supported           | no      | the same request fails the same way          |
 * | every other 1xx-4xx                      | no      | the request itself is wrong or unauthorised  |
 *
 * Network failures (reset, refused, timed out, DNS not ready, socket hang up)
 * are retryable; an abort never is.
 *
 * Each operation is retried at exactly one level (see `RequestRetryOption`
 * of the registry helpers): a retried helper inside a retried loop would
 * multiply the attempts.
 */

export interface RetryOptions {
  /** Total attempts, first one included (>= 1). With `madeProgress`: failed attempts in a row without progress. */
  attempts: number;
  /** Ceiling of the delay before the 2nd attempt; doubles each time (jitter: between half and all of it). */
  baseDelayMs: number;
  /** Cap of the backoff delay. */
  maxDelayMs?: number;
  /** No new attempt starts after this much time since the first one (since the last progress, with `madeProgress`). */
  maxTotalMs?: number;
  /** A server's Retry-After is waited for up to this much; default 4 x `maxDelayMs`. */
  maxRetryAfterMs?: number;
}

/** Options a caller sets over a use's defaults. */
export type RetryOverrides = Partial<RetryOptions>;

/** The registry client's defaults: many short requests, a push must not hang forever. */
export const REGISTRY_RETRY: Readonly<Required<Omit<RetryOptions, 'maxRetryAfterMs'>>> = {
  attempts: 6,
  baseDelayMs: 250,
  maxDelayMs: 15_000,
  maxTotalMs: 300_000,
};

/**
 * The downloader's defaults: few, long transfers that resume; an attempt that
 * advanced restarts the count, so a flaky but progressing link still finishes.
 * No time budget (a large file takes what it takes); Retry-After up to the delay cap.
 */
export const DOWNLOAD_RETRY: Readonly<Required<RetryOptions>> = {
  attempts: 5,
  baseDelayMs: 500,
  maxDelayMs: 30_000,
  maxTotalMs: Number.POSITIVE_INFINITY,
  maxRetryAfterMs: 30_000,
};

const DEFAULT_MAX_DELAY_MS = REGISTRY_RETRY.maxDelayMs;
const DEFAULT_MAX_TOTAL_MS = REGISTRY_RETRY.maxTotalMs;

const NOT_RETRYABLE_5XX: ReadonlySet<number> = new Set([501, 505]);

/** See the table above: 408, 425, 429 and 5xx but 501 and 505. */
export function isRetryableStatus(status: number): boolean {
  if (status === 408 || status === 425 || status === 429) return true;
  return status >= 500 && status <= 599 && !NOT_RETRYABLE_5XX.has(status);
}

const RETRYABLE_NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

/** A dropped or refused connection, a socket hang up, a timeout: somewhere down the `cause` chain. */
export function isRetryableNetworkError(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && RETRYABLE_NETWORK_CODES.has(code)) return true;
    const message = (e as { message?: unknown }).message;
    if (
      typeof message === 'string' &&
      /socket hang up|premature close|aborted/i.test(message) &&
      (e as { name?: string }).name !== 'AbortError'
    )
      return true;
  }
  return false;
}

/** `Retry-After` as milliseconds: delta-seconds or an HTTP date; undefined when absent or unparseable. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * Delay before the next attempt after `failures` failed ones in a row (from 1):
 * jitter over min(maxDelayMs, base * 2^(failures-1)) (between half and all of
 * it), and at least Retry-After (capped by `maxRetryAfterMs`).
 */
export function backoffDelay(failures: number, options: RetryOptions, retryAfterMs?: number, random: () => number = Math.random): number {
  const max = options.maxDelayMs ?? DEFAULT_MAX_DELAY_MS;
  const ceiling = Math.min(max, options.baseDelayMs * 2 ** (failures - 1));
  const jittered = ceiling / 2 + random() * (ceiling / 2);
  return Math.max(jittered, Math.min(retryAfterMs ?? 0, options.maxRetryAfterMs ?? max * 4));
}

export interface RetryContext {
  /** Attempts so far, this one included (from 1). */
  attempt: number;
  /** The error the previous attempt failed with (undefined on the first attempt). */
  previousError?: unknown;
}

export interface WithRetryOptions extends RetryOptions {
  isRetryable: (error: unknown) => boolean;
  /**
   * Asked after a failed attempt: did it advance (bytes written that the next
   * attempt keeps)? Then the failure counts as the first in a row again and
   * the time budget starts anew.
   */
  madeProgress?: (context: RetryContext) => boolean;
  /** The wait a failure asks for; default its numeric `retryAfterMs` field. */
  retryAfterMs?: (error: unknown) => number | undefined;
  signal?: AbortSignal;
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
}

/** Runs `fn` until it succeeds, fails with a non-retryable error, or the attempt/time budget is spent; then throws the last error. */
export async function withRetry<T>(fn: (context: RetryContext) => Promise<T>, options: WithRetryOptions): Promise<T> {
  const maxTotal = options.maxTotalMs ?? DEFAULT_MAX_TOTAL_MS;
  const sleep = options.sleep ?? defaultSleep;
  const retryAfterOf = options.retryAfterMs ?? retryAfterField;
  let started = Date.now();
  let failures = 0;
  let previousError: unknown;
  for (let attempt = 1; ; attempt++) {
    const context: RetryContext = previousError === undefined ? { attempt } : { attempt, previousError };
    try {
      return await fn(context);
    } catch (error) {
      previousError = error;
      if (options.madeProgress?.(context)) {
        failures = 1;
        started = Date.now();
      } else {
        failures += 1;
      }
      if (options.signal?.aborted || failures >= options.attempts || !options.isRetryable(error)) throw error;
      const delay = backoffDelay(failures, options, retryAfterOf(error), options.random);
      if (Date.now() - started + delay > maxTotal) throw error;
      options.onRetry?.(error, attempt, delay);
      await sleep(delay, options.signal);
    }
  }
}

function retryAfterField(error: unknown): number | undefined {
  const value = (error as { retryAfterMs?: unknown } | undefined)?.retryAfterMs;
  return typeof value === 'number' ? value : undefined;
}

function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
