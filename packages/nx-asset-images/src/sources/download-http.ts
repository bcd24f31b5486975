/**
 * HTTP primitives of the downloader: one GET with Node's http/https (no fetch:
 * redirects and headers stay under our control), and pure header parsers.
 */
import http from 'node:http';
import https from 'node:https';
import type { IncomingMessage } from 'node:http';

export interface GetOptions {
  headers: Record<string, string>;
  signal?: AbortSignal;
  /** Socket idle timeout; the request is destroyed with a retryable error after it. */
  idleTimeoutMs: number;
}

/** Raised when a socket stays idle longer than the timeout (retryable). */
export class SourceIdleTimeoutError extends Error {
  override readonly name = 'SourceIdleTimeoutError';
  constructor(readonly idleTimeoutMs: number) {
    super(`no data for ${idleTimeoutMs} ms`);
  }
}

/** Sends one GET and resolves with the response head; the caller consumes or discards the body. Never follows redirects. */
export function httpGet(url: URL, options: GetOptions): Promise<IncomingMessage> {
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolvePromise, reject) => {
    const request = client.request(url, { method: 'GET', headers: options.headers, signal: options.signal });
    request.setTimeout(options.idleTimeoutMs, () => request.destroy(new SourceIdleTimeoutError(options.idleTimeoutMs)));
    request.once('response', resolvePromise);
    request.once('error', reject);
    request.end();
  });
}

export const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

/** 408, 425, 429 and 5xx are worth retrying; other errors are not. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || (status >= 500 && status <= 599);
}

export type ContentRange =
  | { kind: 'range'; start: number; end: number; total?: number }
  | { kind: 'unsatisfied'; total: number };

/** Parses `bytes 10-99/100`, `bytes 10-99/*` and `bytes *\/100`; undefined for anything else. */
export function parseContentRange(header: string | undefined): ContentRange | undefined {
  if (header === undefined) return undefined;
  const text = header.trim();
  const unsatisfied = /^bytes \*\/(\d+)$/i.exec(text);
  if (unsatisfied) return { kind: 'unsatisfied', total: Number(unsatisfied[1]) };
  const match = /^bytes (\d+)-(\d+)\/(\d+|\*)$/i.exec(text);
  if (!match) return undefined;
  const start = Number(match[1]);
  const end = Number(match[2]);
  const total = match[3] === '*' ? undefined : Number(match[3]);
  if (end < start || (total !== undefined && end >= total)) return undefined;
  return total === undefined ? { kind: 'range', start, end } : { kind: 'range', start, end, total };
}

/** `Retry-After` as a delay in ms (seconds or an HTTP date), undefined when absent or unparseable. */
export function parseRetryAfter(header: string | undefined, now: number = Date.now()): number | undefined {
  if (header === undefined) return undefined;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(date - now, 0);
}

/** `Content-Length` as a number, undefined when absent or malformed. */
export function parseContentLength(header: string | undefined): number | undefined {
  if (header === undefined || !/^\d+$/.test(header.trim())) return undefined;
  return Number(header.trim());
}
