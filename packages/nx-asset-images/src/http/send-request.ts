/**
 * One HTTP request (one hop) on Node's `http`/`https`: no fetch, so redirects
 * and headers stay under our control. A streamed request body (backpressure
 * through `pipe`) of an exact Content-Length, an idle timeout, abort. The
 * response body is a stream the caller consumes or discards.
 *
 * Failures: a connection that fails before the response head is an
 * `HttpNetworkError` (cause: the socket's error, `HttpIdleTimeoutError` on
 * the timeout); an abort rejects with the AbortError as is; an error of the
 * request body stream (a digest verifier's, a file's) is rejected as is.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import type { Readable } from 'node:stream';
import { HttpIdleTimeoutError, HttpNetworkError } from './http-errors';

export interface HttpRequestOptions {
  method: string;
  url: URL;
  headers?: Record<string, string>;
  /** Bytes, or a stream of exactly `contentLength` bytes. */
  body?: Buffer | Readable;
  contentLength?: number;
  agent?: http.Agent;
  signal?: AbortSignal;
  /** Idle socket timeout; 0 or absent disables. */
  timeoutMs?: number;
}

export interface HttpResponse {
  status: number;
  statusText: string;
  headers: http.IncomingHttpHeaders;
  body: http.IncomingMessage;
}

export function sendHttpRequest(options: HttpRequestOptions): Promise<HttpResponse> {
  const { url, body, method } = options;
  const headers: Record<string, string> = { ...options.headers };
  if (body !== undefined) {
    const length = Buffer.isBuffer(body) ? body.length : options.contentLength;
    if (length === undefined) throw new Error('a streamed request body needs contentLength');
    headers['content-length'] = String(length);
  } else if (method === 'PUT' || method === 'POST' || method === 'PATCH') {
    headers['content-length'] = '0';
  }
  return new Promise<HttpResponse>((resolve, reject) => {
    let settled = false;
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      if (body && !Buffer.isBuffer(body)) body.destroy();
      reject(error);
    };
    const requestOptions: http.RequestOptions = {
      method,
      headers,
      ...(options.agent ? { agent: options.agent } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    };
    const req = (url.protocol === 'https:' ? https : http).request(url, requestOptions, (res) => {
      if (settled) {
        res.resume();
        return;
      }
      settled = true;
      // The server answered before reading our whole body (401, 413, ...): stop sending.
      if (body && !Buffer.isBuffer(body) && !body.readableEnded) {
        body.unpipe(req);
        body.destroy();
      }
      resolve({ status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', headers: res.headers, body: res });
    });
    req.on('error', (error) => {
      fail(error.name === 'AbortError' || options.signal?.aborted ? error : new HttpNetworkError(method, url, error));
    });
    if (options.timeoutMs) {
      const timeoutMs = options.timeoutMs;
      req.setTimeout(timeoutMs, () => req.destroy(new HttpIdleTimeoutError(timeoutMs)));
    }
    if (body === undefined) {
      req.end();
    } else if (Buffer.isBuffer(body)) {
      req.end(body);
    } else {
      body.on('error', (error) => {
        fail(error);
        req.destroy(error);
      });
      body.pipe(req);
    }
  });
}
