/** Reading, draining and inspecting a response of the HTTP core. */
import type { HttpResponse } from './send-request';

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

/** First value of a header (names are case-insensitive). */
export function headerValue(res: HttpResponse, name: string): string | undefined {
  const value = res.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}
