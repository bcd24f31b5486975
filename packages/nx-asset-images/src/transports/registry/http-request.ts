/**
 * The HTTP core: one request on Node's `http`/`https`, with a streamed body
 * (backpressure through `pipe`), an exact Content-Length, an idle timeout and
 * abort. No retries, no auth: those live in `registry-session.ts`.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import type { Readable } from 'node:stream';

export interface HttpRequestOptions {
  method: string;
  url: URL;
  headers?: Record<string, string>;
  /** Bytes, or a stream of exactly `contentLength` bytes. */
  body?: Buffer | Readable;
  contentLength?: number;
  agent?: http.Agent;
  signal?: AbortSignal;
  /** Idle socket timeout; 0 disables. */
  timeoutMs?: number;
}

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: http.IncomingMessage;
}

export interface HttpAgents {
  http: http.Agent;
  https: https.Agent;
}

export function createAgents(maxSockets: number): HttpAgents {
  return {
    http: new http.Agent({ keepAlive: true, maxSockets }),
    https: new https.Agent({ keepAlive: true, maxSockets }),
  };
}

export function destroyAgents(agents: HttpAgents): void {
  agents.http.destroy();
  agents.https.destroy();
}

export function sendHttpRequest(options: HttpRequestOptions): Promise<HttpResponse> {
  const { url, body } = options;
  const isHttps = url.protocol === 'https:';
  const headers: Record<string, string> = { ...options.headers };
  if (body !== undefined) {
    const length = Buffer.isBuffer(body) ? body.length : options.contentLength;
    if (length === undefined) throw new Error('a streamed request body needs contentLength');
    headers['content-length'] = String(length);
  } else if (options.method === 'PUT' || options.method === 'POST' || options.method === 'PATCH') {
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
      method: options.method,
      headers,
      ...(options.agent ? { agent: options.agent } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    };
    const req = (isHttps ? https : http).request(url, requestOptions, (res) => {
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
      resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res });
    });
    req.on('error', fail);
    if (options.timeoutMs) {
      req.setTimeout(options.timeoutMs, () => {
        req.destroy(Object.assign(new Error(`no data for ${options.timeoutMs} ms`), { code: 'ETIMEDOUT' }));
      });
    }
    if (body === undefined) {
      req.end();
    } else if (Buffer.isBuffer(body)) {
      req.end(body);
    } else {
      body.on('error', (error) => {
        req.destroy(error);
        fail(error);
      });
      body.pipe(req);
    }
  });
}

/** Reads a (small) response body into memory, up to `maxBytes`. */
export async function readResponseBody(res: HttpResponse, maxBytes = 8 * 1024 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of res.body) {
    total += (chunk as Buffer).length;
    if (total > maxBytes) {
      res.body.destroy();
      throw new Error(`response body larger than ${maxBytes} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Drains a response we do not need, so its keep-alive socket returns to the pool. */
export async function discardResponseBody(res: HttpResponse): Promise<void> {
  try {
    for await (const _ of res.body) void _;
  } catch {
    /* the answer was already taken from the status line */
  }
}

export function headerValue(res: HttpResponse, name: string): string | undefined {
  const value = res.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}
