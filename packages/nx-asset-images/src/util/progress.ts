/** Progress of long byte-moving work, reported by the core through a callback; the Nx layer renders it. */
export interface ProgressEvent {
  /** What is being worked on, e.g. a file path or a blob digest. */
  label: string;
  /** Bytes done so far for this label. */
  bytes: number;
  /** Total bytes for this label, when known. */
  total?: number;
}

export type OnProgress = (event: ProgressEvent) => void;

/** How a use case tells its caller what goes on; rendering is the caller's. */
export interface Reporter<Event> {
  /** A step that streams bytes begins (hashing, a layout write, a docker load, a push); `finish` is called when it ends. */
  progress(): { onProgress: OnProgress; finish(): void };
  event(event: Event): void;
}

/** Reports nothing: for callers that only want the outcome (scripts, tests). */
export const SILENT_REPORTER: Reporter<unknown> = { progress: () => ({ onProgress: () => {}, finish: () => {} }), event: () => {} };

/** Runs one step that streams bytes under a progress of `reporter`, finished however the step ends. */
export async function withProgress<T>(
  reporter: Pick<Reporter<unknown>, 'progress'>,
  step: (onProgress: OnProgress) => Promise<T>,
): Promise<T> {
  const progress = reporter.progress();
  try {
    return await step(progress.onProgress);
  } finally {
    progress.finish();
  }
}
