/**
 * The registry client under the one retry policy (`http/retry-policy.ts`):
 * which registry failures are worth another attempt, and `withRetry` with
 * that as its default. Retries retryable statuses, dropped connections and
 * stale credentials; never 4xx answers that would fail again.
 */
import {
  REGISTRY_RETRY,
  isRetryableNetworkError,
  isRetryableStatus,
  withRetry as withRetryPolicy,
  type RetryContext,
  type RetryOptions,
  type WithRetryOptions,
} from '../../http/retry-policy';
import { RegistryError, StaleCredentialsError } from './registry-errors';

export type { RetryOptions } from '../../http/retry-policy';

/** The registry client's defaults (public name of `REGISTRY_RETRY`). */
export const DEFAULT_RETRY: Required<Omit<RetryOptions, 'maxRetryAfterMs'>> = { ...REGISTRY_RETRY };

export function isRetryableError(error: unknown): boolean {
  if (error instanceof StaleCredentialsError) return true;
  if (error instanceof RegistryError && error.status !== undefined) return isRetryableStatus(error.status);
  if (error instanceof Error && error.name === 'AbortError') return false;
  return isRetryableNetworkError(error);
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

/** The policy's `withRetry`, classifying failures with `isRetryableError` unless told otherwise. */
export function withRetry<T>(
  fn: (context: RetryContext) => Promise<T>,
  options: Omit<WithRetryOptions, 'isRetryable'> & Partial<Pick<WithRetryOptions, 'isRetryable'>>,
): Promise<T> {
  return withRetryPolicy(fn, { isRetryable: isRetryableError, ...options });
}
