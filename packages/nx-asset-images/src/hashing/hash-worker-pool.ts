/**
 * A small pool of hash workers (`worker_threads`), one job at a time each.
 * When no compiled worker file is available (tests running the TypeScript
 * sources) or `workerFile: false` is asked, jobs run in the calling thread
 * with the same code: correct, just not parallel.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import {
  abortSharedRing,
  createSharedRing,
  DEFAULT_HASH_BUFFER_SIZE,
  RING_ABORTED_CODE,
  HASH_WORKER_MARKER,
  HashBuffers,
  runHashJob,
  type HashJob,
  type HashJobResult,
  type HashWorkerRequest,
  type HashWorkerResponse,
} from './hash-worker';

export interface HashPoolOptions {
  /** Number of workers (or in-thread slots). Default `os.availableParallelism()`. */
  size?: number;
  /** The worker entry; default: `hash-worker.js` beside this module when it exists; `false` forces in-thread hashing. */
  workerFile?: string | false;
  /** Bytes per read buffer (each worker holds two). Default 8 MiB. */
  bufferSize?: number;
}

/** The compiled worker entry beside this module (`dist/hashing/hash-worker.js`), or `undefined` when running from sources. */
export function defaultHashWorkerFile(): string | undefined {
  const candidate = join(__dirname, 'hash-worker.js');
  return existsSync(candidate) ? candidate : undefined;
}

interface Task {
  /** One job, or the leader and follower of a shared read. */
  jobs: HashJob[];
  onProgress?: (bytes: number) => void;
  results: HashJobResult[];
  remaining: number;
  failed: boolean;
  /** A half that stopped because the other half failed: reported only if no real error comes. */
  aborted?: Error;
  resolve: (results: HashJobResult[]) => void;
  reject: (error: Error) => void;
}

interface Slot {
  worker?: Worker;
  buffers?: HashBuffers;
  task?: Task;
}

/** Slots of the shared ring of a pair: 4 buffers in flight between reader and follower. */
const PAIR_SLOTS = 4;

let nextId = 1;

export class HashPool {
  readonly size: number;
  /** Whether jobs run on worker threads (true) or in the calling thread (false). */
  readonly threaded: boolean;
  private readonly workerFile: string | undefined;
  private readonly bufferSize: number;
  private readonly slots: Slot[] = [];
  private readonly queue: Task[] = [];
  private closed = false;

  constructor(options: HashPoolOptions = {}) {
    this.size = Math.max(1, options.size ?? availableParallelism());
    this.workerFile = options.workerFile === false ? undefined : (options.workerFile ?? defaultHashWorkerFile());
    this.threaded = this.workerFile !== undefined;
    this.bufferSize = options.bufferSize ?? DEFAULT_HASH_BUFFER_SIZE;
  }

  run(job: HashJob, onProgress?: (bytes: number) => void): Promise<HashJobResult> {
    return this.enqueue([job], onProgress).then(([result]) => result);
  }

  /** Whether `runSharedRead` runs the two hashes on two threads (a threaded pool of 2+ workers). */
  get canShareReads(): boolean {
    return this.threaded && this.size >= 2;
  }

  /**
   * Content sha256 and framed sha256 of one file from a single read, on two
   * threads in parallel (see `canShareReads`; otherwise one thread does both).
   */
  async runSharedRead(path: string, prefix: Uint8Array, suffix: Uint8Array, onProgress?: (bytes: number) => void): Promise<HashJobResult> {
    if (!this.canShareReads) return this.run({ path, mode: 'both', prefix, suffix }, onProgress);
    const ring = createSharedRing(PAIR_SLOTS, this.bufferSize);
    const [leader, follower] = await this.enqueue(
      [
        { path, mode: 'content', ring: { ...ring, role: 'leader' } },
        { path, mode: 'frame', prefix, suffix, ring: { ...ring, role: 'follower' } },
      ],
      onProgress,
    );
    if (leader.size !== follower.size) throw new Error(`shared read of ${path}: ${leader.size} bytes read but ${follower.size} hashed`);
    return { size: leader.size, sha256: leader.sha256, framedSha256: follower.framedSha256 };
  }

  private enqueue(jobs: HashJob[], onProgress?: (bytes: number) => void): Promise<HashJobResult[]> {
    if (this.closed) return Promise.reject(new Error('HashPool is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ jobs, onProgress, results: [], remaining: jobs.length, failed: false, resolve, reject });
      this.dispatch();
    });
  }

  /** Terminates the workers. Pending jobs are rejected. */
  async close(): Promise<void> {
    this.closed = true;
    for (const task of this.queue.splice(0)) task.reject(new Error('HashPool closed'));
    for (const slot of this.slots) {
      if (slot.task) this.failTask(slot.task, new Error('HashPool closed'));
    }
    await Promise.all(this.slots.map((slot) => slot.worker?.terminate()));
    this.slots.length = 0;
  }

  private dispatch(): void {
    for (;;) {
      const free = this.slots.filter((s) => !s.task).length + (this.size - this.slots.length);
      const index = this.queue.findIndex((task) => task.jobs.length <= free);
      if (index < 0) return;
      const [task] = this.queue.splice(index, 1);
      task.jobs.forEach((job, jobIndex) => {
        let slot = this.slots.find((s) => !s.task);
        if (!slot) {
          slot = {};
          this.slots.push(slot);
        }
        slot.task = task;
        if (this.threaded) this.runOnWorker(slot, task, job, jobIndex);
        else this.runInThread(slot, task, job, jobIndex);
      });
    }
  }

  private release(slot: Slot): void {
    slot.task = undefined;
    slot.worker?.unref();
    if (!this.closed) this.dispatch();
  }

  private completeJob(task: Task, jobIndex: number, result: HashJobResult): void {
    task.results[jobIndex] = result;
    if (--task.remaining === 0 && !task.failed) {
      if (task.aborted) this.failTask(task, task.aborted);
      else task.resolve(task.results);
    }
  }

  private failTask(task: Task, error: Error): void {
    for (const job of task.jobs) if (job.ring) abortSharedRing(job.ring);
    if (task.failed) return;
    // The half that merely saw the ring aborted waits for the other half's real error (ENOENT, EIO...).
    if ((error as NodeJS.ErrnoException).code === RING_ABORTED_CODE && --task.remaining > 0) {
      task.aborted = error;
      return;
    }
    task.failed = true;
    task.reject(error);
  }

  private runInThread(slot: Slot, task: Task, job: HashJob, jobIndex: number): void {
    slot.buffers ??= new HashBuffers(this.bufferSize);
    runHashJob(job, slot.buffers, jobIndex === 0 ? task.onProgress : undefined).then(
      (result) => {
        this.release(slot);
        this.completeJob(task, jobIndex, result);
      },
      (error: Error) => {
        this.release(slot);
        this.failTask(task, error);
      },
    );
  }

  private runOnWorker(slot: Slot, task: Task, job: HashJob, jobIndex: number): void {
    const worker = (slot.worker ??= this.spawn(slot));
    worker.ref();
    const id = nextId++;
    const onMessage = (message: HashWorkerResponse) => {
      if (message.id !== id) return;
      if (message.type === 'progress') {
        if (jobIndex === 0) task.onProgress?.(message.bytes);
        return;
      }
      worker.off('message', onMessage);
      this.release(slot);
      if (message.type === 'done') this.completeJob(task, jobIndex, message.result);
      else this.failTask(task, Object.assign(new Error(message.message), message.code ? { code: message.code } : {}));
    };
    worker.on('message', onMessage);
    worker.postMessage({ id, job } satisfies HashWorkerRequest);
  }

  private spawn(slot: Slot): Worker {
    const worker = new Worker(this.workerFile!, { workerData: { marker: HASH_WORKER_MARKER, bufferSize: this.bufferSize } });
    const fail = (error: Error) => {
      if (slot.worker !== worker) return;
      slot.worker = undefined;
      const task = slot.task;
      slot.task = undefined;
      if (task) this.failTask(task, error);
      if (!this.closed) this.dispatch();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => {
      if (!this.closed) fail(new Error(`hash worker exited with code ${code}`));
    });
    return worker;
  }
}
