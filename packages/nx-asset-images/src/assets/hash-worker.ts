/**
 * The hashing inner loop, runnable in a `worker_threads` worker or in the
 * calling thread. Self-contained (Node built-ins only) so the compiled
 * `dist/assets/hash-worker.js` can be a worker entry on its own.
 *
 * A job reads one file with large reusable buffers, double-buffered (the next
 * read runs on the libuv pool while this thread hashes the previous chunk),
 * and computes the content sha256, the framed sha256
 * (sha256(prefix ‖ content ‖ suffix), the digest of a single-file tar layer),
 * or both in the same read.
 */
import { createHash, type Hash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';

export type HashMode = 'content' | 'frame' | 'both';

export interface HashJob {
  path: string;
  mode: HashMode;
  /** Required for `frame` and `both`. */
  prefix?: Uint8Array;
  suffix?: Uint8Array;
}

export interface HashJobResult {
  /** Bytes of content read (the file's size at the time of reading). */
  size: number;
  /** Hex sha256 of the content (modes `content`, `both`). */
  sha256?: string;
  /** Hex sha256 of prefix ‖ content ‖ suffix (modes `frame`, `both`). */
  framedSha256?: string;
}

/** Messages between the pool and a worker. */
export type HashWorkerRequest = { id: number; job: HashJob };
export type HashWorkerResponse =
  | { id: number; type: 'progress'; bytes: number }
  | { id: number; type: 'done'; result: HashJobResult }
  | { id: number; type: 'error'; message: string; code?: string };

export const HASH_WORKER_MARKER = 'nx-asset-images:hash-worker';
export const DEFAULT_HASH_BUFFER_SIZE = 8 * 1024 * 1024;
const PROGRESS_EVERY = 64 * 1024 * 1024;

/** Two reusable read buffers (one being hashed, one being filled). */
export class HashBuffers {
  readonly a: Buffer;
  readonly b: Buffer;
  constructor(size = DEFAULT_HASH_BUFFER_SIZE) {
    this.a = Buffer.allocUnsafe(size);
    this.b = Buffer.allocUnsafe(size);
  }
}

export async function runHashJob(job: HashJob, buffers: HashBuffers, onProgress?: (bytes: number) => void): Promise<HashJobResult> {
  const wantContent = job.mode !== 'frame';
  const wantFrame = job.mode !== 'content';
  const content: Hash | undefined = wantContent ? createHash('sha256') : undefined;
  const framed: Hash | undefined = wantFrame ? createHash('sha256') : undefined;
  if (framed) {
    if (!job.prefix || !job.suffix) throw new Error(`hash job for ${job.path}: mode ${job.mode} needs prefix and suffix`);
    framed.update(job.prefix);
  }
  const handle = await open(job.path, 'r');
  let total = 0;
  try {
    let current = buffers.a;
    let spare = buffers.b;
    let { bytesRead } = await handle.read(current, 0, current.length, 0);
    let nextProgress = PROGRESS_EVERY;
    while (bytesRead > 0) {
      const position = total + bytesRead;
      const pending = handle.read(spare, 0, spare.length, position);
      const chunk = current.subarray(0, bytesRead);
      content?.update(chunk);
      framed?.update(chunk);
      total = position;
      if (onProgress && total >= nextProgress) {
        onProgress(total);
        nextProgress = total + PROGRESS_EVERY;
      }
      ({ bytesRead } = await pending);
      [current, spare] = [spare, current];
    }
  } finally {
    await handle.close();
  }
  onProgress?.(total);
  const result: HashJobResult = { size: total };
  if (content) result.sha256 = content.digest('hex');
  if (framed) {
    framed.update(job.suffix!);
    result.framedSha256 = framed.digest('hex');
  }
  return result;
}

function serveAsWorker(): void {
  const port = parentPort!;
  const data = workerData as { bufferSize?: number };
  const buffers = new HashBuffers(data.bufferSize ?? DEFAULT_HASH_BUFFER_SIZE);
  let queue: Promise<void> = Promise.resolve();
  port.on('message', (message: HashWorkerRequest) => {
    queue = queue.then(async () => {
      try {
        const result = await runHashJob(message.job, buffers, (bytes) => port.postMessage({ id: message.id, type: 'progress', bytes } satisfies HashWorkerResponse));
        port.postMessage({ id: message.id, type: 'done', result } satisfies HashWorkerResponse);
      } catch (error) {
        const e = error as NodeJS.ErrnoException;
        port.postMessage({ id: message.id, type: 'error', message: e?.message ?? String(error), code: e?.code } satisfies HashWorkerResponse);
      }
    });
  });
}

if (!isMainThread && (workerData as { marker?: string } | null)?.marker === HASH_WORKER_MARKER) {
  serveAsWorker();
}
