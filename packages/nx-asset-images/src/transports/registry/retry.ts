/**
 * Retry policy: exponential backoff with full jitter, bounded in attempts and
 * in total time; honours Retry-After. Retries 5xx, 408, 429 and dropped
 * connections; never 4xx answers that would fail again.
 */
import { RegistryError, StaleCredentialsError } from './registry-errors';

export interface RetryOptions {
  /** Total attempts, first one included. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs?: number;
  /** No new attempt starts after this much time since the first one. */
  maxTotalMs?: number;
}

export const DEFAULT_RETRY: Required<RetryOptions> = { attempts: 6, baseDelayMs: 250, maxDelayMs: 15_000, maxTotalMs: 300_000 };

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

export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status !== 501 && status !== 505);
}

/** A dropped or refused connection, a socket hang up, a timeout: somewhere down the `cause` chain. */
export function isRetryableNetworkError(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && RETRYABLE_NETWORK_CODES.has(code)) return true;
    const message = (e as { message?: unknown }).message;
    if (typeof message === 'string' && /socket hang up|premature close|aborted/i.test(message) && (e as { name?: string }).name !== 'AbortError') return true;
  }
  return false;
}

export function isRetryableError(error: unknown): boolean {
  if (error instanceof StaleCredentialsError) return true;
  if (error instanceof RegistryError && error.status !== undefined) return isRetryableStatus(error.status);
  if (error instanceof Error && error.name === 'AbortError') return false;
  return isRetryableNetworkError(error);
}

/** `Retry-After` as milliseconds: delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Delay before attempt `attempt + 1` (attempt counts from 1): full jitter over base * 2^(attempt-1), at least Retry-After. */
export function backoffDelay(attempt: number, options: RetryOptions, retryAfterMs?: number, random: () => number = Math.random): number {
  const max = options.maxDelayMs ?? DEFAULT_RETRY.maxDelayMs;
  const ceiling = Math.min(max, options.baseDelayMs * 2 ** (attempt - 1));
  const jittered = ceiling / 2 + random() * (ceiling / 2);
  return Math.max(jittered, Math.min(retryAfterMs ?? 0, max * 4));
}

/**
 * For request helpers (blobExists, startUpload, getBlobStream, ...). Every
 * request is retried at exactly one level: by the helper (`retry` true, the
 * default) when it is the whole operation, or, with `retry: false`, by the
 * caller whose own attempt loop already retries the operation it is part of
 * (an upload, a blob download): nesting them would multiply the attempts.
 */
export interface RequestRetryOption {
  retry?: boolean;
}

export interface RetryContext {
  attempt: number;
  /** The error the previous attempt failed with (undefined on the first attempt). */
  previousError?: unknown;
}

export interface WithRetryOptions extends RetryOptions {
  isRetryable?: (error: unknown) => boolean;
  signal?: AbortSignal;
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
}

/** Runs `fn` until it succeeds, fails with a non-retryable error, or the attempt/time budget is spent. */
export async function withRetry<T>(fn: (context: RetryContext) => Promise<T>, options: WithRetryOptions): Promise<T> {
  const started = Date.now();
  const maxTotal = options.maxTotalMs ?? DEFAULT_RETRY.maxTotalMs;
  const retryable = options.isRetryable ?? isRetryableError;
  const sleep = options.sleep ?? defaultSleep;
  let previousError: unknown;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(previousError === undefined ? { attempt } : { attempt, previousError });
    } catch (error) {
      previousError = error;
      if (options.signal?.aborted || attempt >= options.attempts || !retryable(error)) throw error;
      const retryAfter = error instanceof RegistryError ? error.retryAfterMs : undefined;
      const delay = backoffDelay(attempt, options, retryAfter, options.random);
      if (Date.now() - started + delay > maxTotal) throw error;
      options.onRetry?.(error, attempt, delay);
      await sleep(delay, options.signal);
    }
  }
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
