/**
 * Downloads one remote source into the sha256-keyed cache, verified.
 *
 * - Streams to `<cacheDir>/partial/<hex>.part` while hashing (never buffers the
 *   file); the hash only ever covers bytes already written to disk, so a
 *   dropped connection resumes from the partial with `Range: bytes=<n>-`.
 * - The answer is read by the one resume rule (`http/range-resume.ts`): a 206
 *   must carry a `Content-Range` starting at <n> (and the source's size as its
 *   total, when both are known); a 200 to a Range request (a server that
 *   ignores Range) is read past its first <n> bytes; an answer that cannot
 *   continue the partial (another Content-Range, a 416 not naming <n> as the
 *   size) empties the partial and the next attempt starts from 0.
 * - Requests go through the package's HTTP core (`http/http-request.ts`):
 *   redirects (301/302/303/307/308, at most 10) are followed by hand and the
 *   Authorization header goes only to the origin of the source URL, decided
 *   on every hop.
 * - Retryable statuses (`http/retry-policy.ts`: 408, 425, 429, 5xx but 501
 *   and 505) and network errors are retried under the one retry policy with
 *   `DOWNLOAD_RETRY` defaults; the count of consecutive failed attempts that
 *   brought no new bytes is bounded by `retry.attempts` (an attempt that
 *   advanced restarts the count, so a flaky but progressing link still
 *   finishes; one that never advances fails after exactly `retry.attempts`
 *   attempts).
 * - Only bytes whose sha256 (and size, when given) match are renamed into
 *   `<cacheDir>/sha256/<hex>`; mismatching bytes are deleted.
 * - One download per sha256 per process (callers share it), one per
 *   sha256 across processes (a lock file; the others wait and take the entry).
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, rm, type FileHandle } from 'node:fs/promises';
import { resolve } from 'node:path';
import { createAgents, destroyAgents, type HttpAgents } from '../http/agents';
import { HttpNetworkError, HttpRedirectError } from '../http/http-errors';
import { httpRequest, type RequestResponse } from '../http/http-request';
import { rangeRequestHeaders, readRangeAnswer, restOfBody, type RangeAnswer } from '../http/range-resume';
import { DOWNLOAD_RETRY, isRetryableStatus, parseRetryAfter, withRetry, type RetryOverrides } from '../http/retry-policy';
import { SourceChecksumError, SourceHttpError, SourceProtocolError, SourceRetriesExhaustedError, SourceSizeError } from './download-errors';
import type { SourceProgressEvent } from './download-progress';
import { normalizeSha256, redactUrl, urlBasename } from './remote-source';
import { authFromEnv, tokenEnvVarsFor, type AuthResolver } from './source-auth';
import { acquireSourceLock, cachedSourcePath, commitVerifiedSource, sourceCachePaths } from './source-cache';

/** What a download needs from a source: `path` (where it goes in the image) is not its concern. */
export interface SourceRef {
  url: string;
  /** 64 hex characters (`sha256:` prefix and upper case accepted). */
  sha256: string;
  size?: number;
}

export type OnSourceProgress = (event: SourceProgressEvent) => void;

export interface DownloadOptions {
  /** Absolute cache directory, see `resolveSourceCacheDir`. */
  cacheDir: string;
  onProgress?: OnSourceProgress;
  /** The retry policy's options over `DOWNLOAD_RETRY` (`attempts`: failed attempts in a row without progress, >= 1). */
  retry?: RetryOverrides;
  /** Default `authFromEnv(process.env)`: `NX_ASSET_IMAGES_TOKEN_<HOST>`, `HF_TOKEN`. */
  auth?: AuthResolver;
  /** Aborting keeps the partial download (resumable) and rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Socket idle timeout per request, default 60 s. */
  idleTimeoutMs?: number;
}

export const MAX_REDIRECTS = 10;
const DEFAULT_IDLE_TIMEOUT_MS = 60_000;
const PROGRESS_INTERVAL_MS = 100;
const USER_AGENT = 'nx-asset-images';
/** Sockets per download: one request at a time, and one for a redirect target. */
const DOWNLOAD_SOCKETS = 2;

interface Flight {
  promise: Promise<string>;
  listeners: Set<OnSourceProgress>;
  callers: number;
  controller: AbortController;
}

/** In-process downloads under way, by `<cacheDir>\0<sha256>`. */
const flights = new Map<string, Flight>();

/**
 * Returns the absolute path of the verified cache entry for `source`,
 * downloading it first unless it is cached (then no network at all).
 */
export async function downloadVerified(source: SourceRef, options: DownloadOptions): Promise<string> {
  const sha256 = normalizeSha256(source.sha256);
  if (sha256 === undefined) throw new TypeError(`not a sha256: "${source.sha256}" (source ${redactUrl(source.url)})`);
  options.signal?.throwIfAborted();
  const cacheDir = resolve(options.cacheDir);
  const cached = await cachedSourcePath(sha256, cacheDir);
  if (cached !== undefined) return cached;

  const key = `${cacheDir}\0${sha256}`;
  let flight = flights.get(key);
  while (flight?.controller.signal.aborted) {
    // Every caller of that one gave up; let it wind down (it releases the lock, keeps the partial), then start afresh.
    await flight.promise.catch(() => undefined);
    flight = flights.get(key);
  }
  if (flight === undefined) {
    const controller = new AbortController();
    const listeners = new Set<OnSourceProgress>();
    const emit: OnSourceProgress = (event) => listeners.forEach((listener) => listener(event));
    const promise = downloadLocked({ ...source, sha256 }, cacheDir, options, controller.signal, emit).finally(() => flights.delete(key));
    promise.catch(() => undefined); // rejections are delivered to the callers below
    flight = { promise, listeners, callers: 0, controller };
    flights.set(key, flight);
  }
  return joinFlight(flight, options.onProgress, options.signal);
}

/** A caller's view of a shared download: its own progress listener and its own abort (the download stops when every caller aborted). */
function joinFlight(flight: Flight, onProgress: OnSourceProgress | undefined, signal: AbortSignal | undefined): Promise<string> {
  flight.callers += 1;
  if (onProgress) flight.listeners.add(onProgress);
  return new Promise<string>((resolvePromise, reject) => {
    const leave = () => {
      flight.callers -= 1;
      if (onProgress) flight.listeners.delete(onProgress);
      signal?.removeEventListener('abort', onAbort);
    };
    const onAbort = () => {
      leave();
      if (flight.callers === 0) flight.controller.abort(signal?.reason);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    flight.promise.then(
      (path) => {
        leave();
        resolvePromise(path);
      },
      (error: unknown) => {
        leave();
        reject(error);
      },
    );
  });
}

async function downloadLocked(
  source: SourceRef,
  cacheDir: string,
  options: DownloadOptions,
  signal: AbortSignal,
  emit: OnSourceProgress,
): Promise<string> {
  const release = await acquireSourceLock(cacheDir, source.sha256, signal);
  try {
    // Another process may have finished it while we waited for the lock.
    const cached = await cachedSourcePath(source.sha256, cacheDir);
    if (cached !== undefined) return cached;
    return await downloadToCache(source, cacheDir, options, signal, emit);
  } finally {
    await release();
  }
}

/** A failure worth another attempt; `retryAfterMs` from the server, when it said. */
class Retryable extends Error {
  constructor(
    override readonly cause: unknown,
    readonly retryAfterMs?: number,
  ) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
  }
}

/** The partial file and the running hash of exactly the bytes in it. */
interface Partial {
  path: string;
  file: FileHandle;
  hash: Hash;
  bytes: number;
}

async function hashExisting(path: string): Promise<{ hash: Hash; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  try {
    for await (const chunk of createReadStream(path)) {
      hash.update(chunk as Buffer);
      bytes += (chunk as Buffer).length;
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    return { hash: createHash('sha256'), bytes: 0 };
  }
  return { hash, bytes };
}

async function restart(partial: Partial): Promise<void> {
  await partial.file.truncate(0);
  partial.hash = createHash('sha256');
  partial.bytes = 0;
}

async function writeAll(file: FileHandle, chunk: Buffer): Promise<void> {
  let offset = 0;
  while (offset < chunk.length) {
    const { bytesWritten } = await file.write(chunk, offset, chunk.length - offset, null);
    offset += bytesWritten;
  }
}

interface Context {
  source: SourceRef;
  url: URL;
  shownUrl: string;
  auth: AuthResolver;
  agents: HttpAgents;
  idleTimeoutMs: number;
  signal: AbortSignal;
  partial: Partial;
  /** The file's total size as the server announced it (progress only). */
  announced: { total?: number };
  progress: (force: boolean) => void;
}

async function downloadToCache(
  source: SourceRef,
  cacheDir: string,
  options: DownloadOptions,
  signal: AbortSignal,
  emit: OnSourceProgress,
): Promise<string> {
  const shownUrl = redactUrl(source.url);
  let url: URL;
  try {
    url = new URL(source.url);
  } catch {
    throw new SourceProtocolError(shownUrl, 'not a valid URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new SourceProtocolError(shownUrl, `unsupported protocol ${url.protocol}`);
  }
  const retry = { ...DOWNLOAD_RETRY, ...options.retry };
  const paths = sourceCachePaths(cacheDir, source.sha256);

  const existing = await hashExisting(paths.partial);
  const file = await open(paths.partial, 'a');
  const partial: Partial = { path: paths.partial, file, ...existing };
  let closed = false;
  const close = async () => {
    if (!closed) {
      closed = true;
      await file.close();
    }
  };
  const discard = async () => {
    await close();
    await rm(paths.partial, { force: true });
  };

  if (source.size !== undefined && partial.bytes > source.size) await restart(partial);
  /** Bytes taken over from an earlier process: if the result mismatches, they may be the culprit: one clean retry. */
  let resumedFromDisk = partial.bytes;

  const startedAt = Date.now();
  const label = urlBasename(url);
  const announced: { total?: number } = {};
  let lastEmit = 0;
  const progress = (force: boolean, done = false) => {
    const now = Date.now();
    if (!force && now - lastEmit < PROGRESS_INTERVAL_MS) return;
    lastEmit = now;
    emit({
      label,
      url: shownUrl,
      sha256: source.sha256,
      bytes: partial.bytes,
      ...(source.size !== undefined ? { total: source.size } : announced.total !== undefined ? { total: announced.total } : {}),
      startedAt,
      resumedFrom: existing.bytes,
      done,
    });
  };
  const context: Context = {
    source,
    url,
    shownUrl,
    auth: options.auth ?? authFromEnv(process.env),
    agents: createAgents(DOWNLOAD_SOCKETS),
    idleTimeoutMs: options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
    signal,
    partial,
    announced,
    progress: (force) => progress(force),
  };

  let attempts = 0;
  let before = partial.bytes;
  try {
    return await withRetry(
      async () => {
        for (;;) {
          signal.throwIfAborted();
          before = partial.bytes;
          attempts += 1;
          await attempt(context);

          const actual = partial.hash.copy().digest('hex');
          const sizeWrong = source.size !== undefined && partial.bytes !== source.size;
          if (sizeWrong || actual !== source.sha256) {
            if (resumedFromDisk > 0) {
              resumedFromDisk = 0;
              await restart(partial);
              continue;
            }
            const received = partial.bytes;
            await discard();
            if (sizeWrong) throw new SourceSizeError(shownUrl, source.size!, received);
            throw new SourceChecksumError(shownUrl, source.sha256, actual);
          }
          await file.sync();
          await close();
          const entry = await commitVerifiedSource(cacheDir, source.sha256, paths.partial);
          progress(true, true);
          return entry;
        }
      },
      {
        ...retry,
        signal,
        isRetryable: (error) => error instanceof Retryable,
        madeProgress: () => partial.bytes > before,
      },
    );
  } catch (error) {
    if (signal.aborted) throw signal.reason ?? error;
    if (error instanceof Retryable) throw new SourceRetriesExhaustedError(shownUrl, attempts, error.cause);
    if (error instanceof SourceSizeError) await discard();
    throw error;
  } finally {
    destroyAgents(context.agents);
    await close();
  }
}

/**
 * One attempt: GET (following redirects), append the body to the partial.
 * Resolves when the response ended normally. Throws `Retryable` for what another attempt may fix.
 */
async function attempt(context: Context): Promise<void> {
  const { url, shownUrl, partial, signal } = context;
  const headers = { 'user-agent': USER_AGENT, accept: '*/*', 'accept-encoding': 'identity', ...rangeRequestHeaders(partial.bytes) };

  let response: RequestResponse;
  try {
    response = await httpRequest({
      method: 'GET',
      url,
      headers,
      signal,
      timeoutMs: context.idleTimeoutMs,
      agents: context.agents,
      credentials: { owner: url, authorization: context.auth },
      redirects: { max: MAX_REDIRECTS },
    });
  } catch (error) {
    if (error instanceof HttpRedirectError) throw new SourceProtocolError(shownUrl, error.reason, { cause: error });
    throw new Retryable(error instanceof HttpNetworkError ? error.cause : error);
  }
  const { status } = response;
  const answer = readRangeAnswer(partial.bytes, response, context.source.size);
  if (answer.kind === 'body') return receiveBody(context, response, answer);
  if (answer.kind === 'complete') {
    // The partial already holds the whole file (an earlier run died before the rename): verify it as is.
    response.body.resume();
    return;
  }
  if (answer.kind === 'mismatch') {
    if (status === 416) response.body.resume();
    else response.body.destroy();
    await restart(partial);
    throw new Retryable(new SourceProtocolError(shownUrl, `${answer.reason}; restarting from 0`));
  }

  response.body.resume();
  const error = new SourceHttpError(shownUrl, status, response.statusText, authHint(status, url, response.sentCredentials));
  if (isRetryableStatus(status)) throw new Retryable(error, parseRetryAfter(response.headers['retry-after']));
  throw error;
}

function authHint(status: number, url: URL, sentAuth: boolean): string | undefined {
  if (status !== 401 && status !== 403 && status !== 404) return undefined;
  const names = tokenEnvVarsFor(url.hostname).join(' or ');
  return sentAuth
    ? `A token from ${names} was sent; check that it grants access to this file`
    : `If the file is private or gated, set ${names} in the environment`;
}

/** Appends the rest the answer brings (a 200's first bytes, those the partial holds, skipped) to the partial. */
async function receiveBody(context: Context, response: RequestResponse, answer: RangeAnswer & { kind: 'body' }): Promise<void> {
  const { source, shownUrl, partial } = context;
  if (answer.total !== undefined) context.announced.total = answer.total;
  const { rest } = answer;
  if (source.size !== undefined && rest !== undefined && partial.bytes + rest !== source.size) {
    response.body.destroy();
    throw new SourceSizeError(shownUrl, source.size, partial.bytes + rest);
  }

  let received = 0;
  try {
    for await (const chunk of restOfBody(response.body as AsyncIterable<Buffer>, answer.skip)) {
      await writeAll(partial.file, chunk);
      partial.hash.update(chunk);
      partial.bytes += chunk.length;
      received += chunk.length;
      if (source.size !== undefined && partial.bytes > source.size) {
        response.body.destroy();
        throw new SourceSizeError(shownUrl, source.size, partial.bytes);
      }
      context.progress(false);
    }
  } catch (error) {
    if (error instanceof SourceSizeError) throw error;
    throw new Retryable(error);
  } finally {
    context.progress(true);
  }
  if (rest !== undefined && received < rest) {
    throw new Retryable(new Error(`connection closed after ${received} of ${rest} bytes`));
  }
}
