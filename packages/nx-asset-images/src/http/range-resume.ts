/**
 * The one rule for resuming a download by range, used by the remote-source
 * downloader (`sources/download.ts`) and the registry blob stream
 * (`transports/registry/blob-fetch.ts`): a client that holds the first
 * `offset` bytes asks for the rest (`rangeRequestHeaders`) and reads the
 * answer with `readRangeAnswer`:
 *
 * - 206 whose `Content-Range` starts at `offset` (and, when both the caller and
 *   the header know the total size, names that total): the body is the rest;
 * - 206 with any other or no `Content-Range`: the held bytes cannot be
 *   continued (`mismatch`);
 * - 200: the server ignored Range and sent the whole body from byte 0: its
 *   first `offset` bytes are skipped (`restOfBody`) and the rest appended;
 *   a 200 shorter than `offset` is a `mismatch`;
 * - 416 with `Content-Range: bytes *\/<offset>`: the held bytes are the whole
 *   resource (`complete`); any other 416 to a resume is a `mismatch`;
 * - anything else: no answer about the range (`status`): the caller's status
 *   handling applies. At offset 0 (no Range asked) 200 is the body and 416 is
 *   a status like any other.
 *
 * Why a 200 skips the bytes held, verifying nothing, rather than start over:
 * the registry blob stream has already handed those bytes to its consumer
 * (`docker load`, the layout store) and cannot take them back, so skipping is
 * the one treatment every client can apply; and it costs no safety, because
 * each client checks every byte it keeps against the digest it trusts when
 * the transfer ends (the source's sha256 over the partial file, the blob's
 * digest over the stream): held bytes that differ from the server's fail that
 * check, and comparing them on the way would only re-read what the check
 * reads anyway. What a `mismatch` leads to is the client's: the downloader
 * truncates its partial file and retries from 0, the blob stream fails.
 * Pure, but for `restOfBody`, which reads the body it is given.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { parseContentLength, parseContentRange } from './content-headers';

export type RangeAnswer =
  /** Read the body, dropping its first `skip` bytes; `rest`: how many bytes then follow, when known; `total`: the resource's size, when announced. */
  | { kind: 'body'; skip: number; rest?: number; total?: number }
  /** The held bytes are the whole resource (416 naming `offset` as the total): nothing to read. */
  | { kind: 'complete' }
  /** The answer does not continue the held bytes; `reason` names the offset and what came. */
  | { kind: 'mismatch'; reason: string }
  /** Not an answer about the range (an error status, a redirect not followed): the caller's status handling. */
  | { kind: 'status' };

/** The request headers that ask for the bytes from `offset` on: none at 0. */
export function rangeRequestHeaders(offset: number): Record<string, string> {
  return offset > 0 ? { range: `bytes=${offset}-` } : {};
}

/**
 * What an answer to a request from `offset` (with `rangeRequestHeaders`) means.
 * `expectedTotal`: the resource's size when the caller knows it (a 206 naming
 * another total is a `mismatch`).
 */
export function readRangeAnswer(
  offset: number,
  answer: { status: number; headers: IncomingHttpHeaders },
  expectedTotal?: number,
): RangeAnswer {
  const length = parseContentLength(answer.headers['content-length']);
  const header = answer.headers['content-range'];
  if (answer.status === 206) {
    const range = parseContentRange(header);
    const fits =
      range?.kind === 'range' &&
      range.start === offset &&
      (expectedTotal === undefined || range.total === undefined || range.total === expectedTotal);
    if (!fits) return { kind: 'mismatch', reason: `unexpected Content-Range "${header ?? ''}" for a resume at byte ${offset}` };
    return {
      kind: 'body',
      skip: 0,
      ...(length !== undefined ? { rest: length } : {}),
      ...(range.total !== undefined ? { total: range.total } : {}),
    };
  }
  if (answer.status === 200) {
    if (length !== undefined && length < offset) {
      return { kind: 'mismatch', reason: `a whole body of ${length} bytes (200) for a resume at byte ${offset}` };
    }
    return { kind: 'body', skip: offset, ...(length !== undefined ? { rest: length - offset, total: length } : {}) };
  }
  if (answer.status === 416 && offset > 0) {
    const range = parseContentRange(header);
    if (range?.kind === 'unsatisfied' && range.total === offset) return { kind: 'complete' };
    return { kind: 'mismatch', reason: `HTTP 416 for a resume at byte ${offset}` };
  }
  return { kind: 'status' };
}

/** The chunks of `body` after its first `skip` bytes (a `body` answer's `skip`). */
export async function* restOfBody(body: AsyncIterable<Buffer>, skip: number): AsyncGenerator<Buffer> {
  let left = skip;
  for await (const chunk of body) {
    if (left >= chunk.length) {
      left -= chunk.length;
      continue;
    }
    yield left > 0 ? chunk.subarray(left) : chunk;
    left = 0;
  }
}
