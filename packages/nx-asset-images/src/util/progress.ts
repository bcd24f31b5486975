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
