import { Transform, type TransformCallback } from 'node:stream';
import type { OnProgress } from './progress';

/** Bytes between two reports, when the caller does not say. */
export const DEFAULT_PROGRESS_EVERY_BYTES = 8 * 1024 * 1024;

export interface ProgressTapOptions {
  /** The event's label, e.g. a blob digest or `docker load`. */
  label: string;
  /** Bytes expected, when known. */
  total?: number;
  onProgress: OnProgress;
  /** Report at most once per this many bytes (and always at the end). Default 8 MiB; 0 reports every chunk. */
  everyBytes?: number;
}

/** A pass-through stream that counts the bytes going through it and reports them, throttled, and once more at the end. */
export class ProgressTap extends Transform {
  private bytes = 0;
  private reported = 0;
  private readonly everyBytes: number;

  constructor(private readonly options: ProgressTapOptions) {
    super();
    this.everyBytes = options.everyBytes ?? DEFAULT_PROGRESS_EVERY_BYTES;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes - this.reported >= this.everyBytes) {
      this.reported = this.bytes;
      this.report();
    }
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    this.report();
    callback();
  }

  private report(): void {
    const { label, total } = this.options;
    this.options.onProgress(total === undefined ? { label, bytes: this.bytes } : { label, bytes: this.bytes, total });
  }
}

/** The tap as a list of pipeline stages: empty when nobody listens. */
export function progressStages(options: Omit<ProgressTapOptions, 'onProgress'> & { onProgress?: OnProgress }): ProgressTap[] {
  return options.onProgress ? [new ProgressTap({ ...options, onProgress: options.onProgress })] : [];
}
