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
  DEFAULT_HASH_BUFFER_SIZE,
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

/** The compiled worker entry beside this module (`dist/assets/hash-worker.js`), or `undefined` when running from sources. */
export function defaultHashWorkerFile(): string | undefined {
  const candidate = join(__dirname, 'hash-worker.js');
  return existsSync(candidate) ? candidate : undefined;
}

interface Task {
  job: HashJob;
  onProgress?: (bytes: number) => void;
  resolve: (result: HashJobResult) => void;
  reject: (error: Error) => void;
}

interface Slot {
  worker?: Worker;
  buffers?: HashBuffers;
  task?: Task;
}

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
    if (this.closed) return Promise.reject(new Error('HashPool is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ job, onProgress, resolve, reject });
      this.dispatch();
    });
  }

  /** Terminates the workers. Pending jobs are rejected. */
  async close(): Promise<void> {
    this.closed = true;
    for (const task of this.queue.splice(0)) task.reject(new Error('HashPool closed'));
    for (const slot of this.slots) {
      if (this.threaded) slot.task?.reject(new Error('HashPool closed'));
    }
    await Promise.all(this.slots.map((slot) => slot.worker?.terminate()));
    this.slots.length = 0;
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      let slot = this.slots.find((s) => !s.task);
      if (!slot) {
        if (this.slots.length >= this.size) return;
        slot = {};
        this.slots.push(slot);
      }
      const task = this.queue.shift()!;
      slot.task = task;
      if (this.threaded) this.runOnWorker(slot, task);
      else this.runInThread(slot, task);
    }
  }

  private finish(slot: Slot): void {
    slot.task = undefined;
    slot.worker?.unref();
    if (!this.closed) this.dispatch();
  }

  private runInThread(slot: Slot, task: Task): void {
    slot.buffers ??= new HashBuffers(this.bufferSize);
    runHashJob(task.job, slot.buffers, task.onProgress).then(
      (result) => {
        this.finish(slot);
        task.resolve(result);
      },
      (error: Error) => {
        this.finish(slot);
        task.reject(error);
      },
    );
  }

  private runOnWorker(slot: Slot, task: Task): void {
    const worker = (slot.worker ??= this.spawn(slot));
    worker.ref();
    const id = nextId++;
    const onMessage = (message: HashWorkerResponse) => {
      if (message.id !== id) return;
      if (message.type === 'progress') {
        task.onProgress?.(message.bytes);
        return;
      }
      worker.off('message', onMessage);
      this.finish(slot);
      if (message.type === 'done') task.resolve(message.result);
      else task.reject(Object.assign(new Error(message.message), message.code ? { code: message.code } : {}));
    };
    worker.on('message', onMessage);
    worker.postMessage({ id, job: task.job } satisfies HashWorkerRequest);
  }

  private spawn(slot: Slot): Worker {
    const worker = new Worker(this.workerFile!, { workerData: { marker: HASH_WORKER_MARKER, bufferSize: this.bufferSize } });
    const fail = (error: Error) => {
      if (slot.worker !== worker) return;
      slot.worker = undefined;
      const task = slot.task;
      slot.task = undefined;
      task?.reject(error);
      if (!this.closed) this.dispatch();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => {
      if (!this.closed) fail(new Error(`hash worker exited with code ${code}`));
    });
    return worker;
  }
}
