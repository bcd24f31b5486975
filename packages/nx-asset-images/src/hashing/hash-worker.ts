/**
 * The hashing inner loop, runnable in a `worker_threads` worker or in the
 * calling thread. Self-contained (Node built-ins only) so the compiled
 * `dist/hashing/hash-worker.js` can be a worker entry on its own.
 *
 * A job reads one file with large reusable buffers, double-buffered (the next
 * read runs on the libuv pool while this thread hashes the previous chunk),
 * and computes the content sha256, the framed sha256
 * (sha256(prefix ‖ content ‖ suffix), the digest of a single-file tar layer),
 * or both in the same read.
 *
 * A pair of jobs can also share one read across two threads: the `leader`
 * reads the file into a ring of shared buffers and hashes the content, the
 * `follower` hashes prefix ‖ the same chunks ‖ suffix. One read, two sha256
 * passes in parallel: a cold big file with a frame costs about one pass.
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
  /** Set for the two halves of a shared-read pair: the leader (mode `content`) reads, the follower (mode `frame`) only hashes. */
  ring?: SharedRing;
}

/** A ring of shared read buffers and its control words, shared by a leader and a follower job. */
export interface SharedRing {
  role: 'leader' | 'follower';
  /** `slots * slotSize` bytes. */
  data: SharedArrayBuffer;
  /** Int32 words: see `RING_*`; then one length per slot. */
  control: SharedArrayBuffer;
  slots: number;
  slotSize: number;
}

/** Chunks the leader has published. */
export const RING_PRODUCED = 0;
/** Chunks the follower has finished hashing. */
export const RING_CONSUMED = 1;
/** Non-zero when either side failed: the other stops. */
export const RING_ABORTED = 2;
const RING_LENGTHS = 4;
const RING_WAIT_MS = 1000;

export function createSharedRing(slots: number, slotSize: number): Omit<SharedRing, 'role'> {
  return { data: new SharedArrayBuffer(slots * slotSize), control: new SharedArrayBuffer((RING_LENGTHS + slots) * 4), slots, slotSize };
}

/** Marks a ring aborted and wakes both sides (used when one side's worker dies). */
export function abortSharedRing(ring: Pick<SharedRing, 'control'>): void {
  const control = new Int32Array(ring.control);
  Atomics.store(control, RING_ABORTED, 1);
  Atomics.notify(control, RING_PRODUCED);
  Atomics.notify(control, RING_CONSUMED);
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
  if (job.ring) {
    try {
      return job.ring.role === 'leader' ? await runLeader(job, job.ring, onProgress) : runFollower(job, job.ring);
    } catch (error) {
      abortSharedRing(job.ring);
      throw error;
    }
  }
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

/** Code of the error a half of a shared read ends with when the other half failed first: the pool reports the other's error instead. */
export const RING_ABORTED_CODE = 'NXAI_RING_ABORTED';

class RingAbortedError extends Error {
  readonly code = RING_ABORTED_CODE;
  constructor() {
    super('the other half of the shared read failed');
  }
}

/** Reads the file into the ring (next read in flight while hashing the current chunk) and hashes the content. */
async function runLeader(job: HashJob, ring: SharedRing, onProgress?: (bytes: number) => void): Promise<HashJobResult> {
  const control = new Int32Array(ring.control);
  const view = (k: number) => new Uint8Array(ring.data, (k % ring.slots) * ring.slotSize, ring.slotSize);
  /** Blocks until the follower has released the slot chunk `k` will use. */
  const waitForSlot = (k: number) => {
    for (;;) {
      if (Atomics.load(control, RING_ABORTED) !== 0) throw new RingAbortedError();
      const consumed = Atomics.load(control, RING_CONSUMED);
      if (k - consumed < ring.slots) return;
      Atomics.wait(control, RING_CONSUMED, consumed, RING_WAIT_MS);
    }
  };
  const publish = (k: number, length: number) => {
    Atomics.store(control, RING_LENGTHS + (k % ring.slots), length);
    Atomics.store(control, RING_PRODUCED, k + 1);
    Atomics.notify(control, RING_PRODUCED);
  };
  const content = createHash('sha256');
  const handle = await open(job.path, 'r');
  let total = 0;
  let nextProgress = PROGRESS_EVERY;
  try {
    let k = 0;
    waitForSlot(0);
    let pending = handle.read(view(0), 0, ring.slotSize, 0);
    for (;;) {
      const { bytesRead } = await pending;
      publish(k, bytesRead);
      if (bytesRead === 0) break;
      const chunk = view(k).subarray(0, bytesRead);
      total += bytesRead;
      waitForSlot(k + 1);
      pending = handle.read(view(k + 1), 0, ring.slotSize, total);
      content.update(chunk);
      if (onProgress && total >= nextProgress) {
        onProgress(total);
        nextProgress = total + PROGRESS_EVERY;
      }
      k++;
    }
  } finally {
    await handle.close();
  }
  onProgress?.(total);
  return { size: total, sha256: content.digest('hex') };
}

/** Hashes prefix ‖ the chunks the leader publishes ‖ suffix. */
function runFollower(job: HashJob, ring: SharedRing): HashJobResult {
  if (!job.prefix || !job.suffix) throw new Error(`hash job for ${job.path}: the follower needs prefix and suffix`);
  const control = new Int32Array(ring.control);
  const framed = createHash('sha256').update(job.prefix);
  let total = 0;
  for (let k = 0; ; k++) {
    for (;;) {
      if (Atomics.load(control, RING_ABORTED) !== 0) throw new RingAbortedError();
      if (Atomics.load(control, RING_PRODUCED) > k) break;
      Atomics.wait(control, RING_PRODUCED, k, RING_WAIT_MS);
    }
    const length = Atomics.load(control, RING_LENGTHS + (k % ring.slots));
    if (length === 0) break;
    framed.update(new Uint8Array(ring.data, (k % ring.slots) * ring.slotSize, length));
    total += length;
    Atomics.store(control, RING_CONSUMED, k + 1);
    Atomics.notify(control, RING_CONSUMED);
  }
  return { size: total, framedSha256: framed.update(job.suffix).digest('hex') };
}

function serveAsWorker(): void {
  const port = parentPort!;
  const data = workerData as { bufferSize?: number };
  const buffers = new HashBuffers(data.bufferSize ?? DEFAULT_HASH_BUFFER_SIZE);
  let queue: Promise<void> = Promise.resolve();
  port.on('message', (message: HashWorkerRequest) => {
    queue = queue.then(async () => {
      try {
        const result = await runHashJob(message.job, buffers, (bytes) =>
          port.postMessage({ id: message.id, type: 'progress', bytes } satisfies HashWorkerResponse),
        );
        port.postMessage({ id: message.id, type: 'done', result } satisfies HashWorkerResponse);
      } catch (error) {
        const e = error as NodeJS.ErrnoException;
        port.postMessage({
          id: message.id,
          type: 'error',
          message: e?.message ?? String(error),
          code: e?.code,
        } satisfies HashWorkerResponse);
      }
    });
  });
}

if (!isMainThread && (workerData as { marker?: string } | null)?.marker === HASH_WORKER_MARKER) {
  serveAsWorker();
}
