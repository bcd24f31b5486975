import type { OnProgress, ProgressEvent } from '../util/progress';
import { formatBytes } from '../util/format-bytes';

export interface ProgressRendererOptions {
  /** Where to draw; a TTY gets a redrawn bar, anything else periodic plain lines. */
  stream?: NodeJS.WriteStream;
  /** Minimum milliseconds between plain lines. */
  lineIntervalMs?: number;
  now?: () => number;
}

export interface ProgressRenderer {
  onProgress: OnProgress;
  /** Ends the bar line (TTY) and prints a final summary line per label. */
  finish(): void;
}

interface LabelState {
  startedAt: number;
  bytes: number;
  total?: number;
}

const MB = 1024 * 1024;

export { formatBytes };

export function formatRate(bytes: number, ms: number): string {
  return ms <= 0 ? '-' : `${formatBytes((bytes * 1000) / ms)}/s`;
}

/** One line describing a label's progress: bytes, total, percentage, rate. Pure, for tests and both renderers. */
export function describeProgress(label: string, state: LabelState, now: number): string {
  const elapsed = now - state.startedAt;
  const total = state.total ? ` / ${formatBytes(state.total)} (${Math.floor((100 * state.bytes) / state.total)}%)` : '';
  return `${label}: ${formatBytes(state.bytes)}${total} at ${formatRate(state.bytes, elapsed)}`;
}

export function progressBar(fraction: number, width = 24): string {
  const filled = Math.max(0, Math.min(width, Math.round(fraction * width)));
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}

export function createProgressRenderer(options: ProgressRendererOptions = {}): ProgressRenderer {
  const stream = options.stream ?? process.stderr;
  const now = options.now ?? Date.now;
  const interval = options.lineIntervalMs ?? 2000;
  const tty = Boolean(stream.isTTY);
  const states = new Map<string, LabelState>();
  // TTY: draw at once; plain output: the first line only after an interval, so quick work prints just its summary.
  let lastLine = tty ? Number.NEGATIVE_INFINITY : now();
  let drawn = false;

  const onProgress = (event: ProgressEvent): void => {
    const state = states.get(event.label) ?? { startedAt: now(), bytes: 0, total: event.total };
    state.bytes = event.bytes;
    state.total = event.total ?? state.total;
    states.set(event.label, state);
    const t = now();
    if (tty) {
      if (t - lastLine < 100 && event.bytes !== event.total) return;
      lastLine = t;
      const fraction = state.total ? state.bytes / state.total : 0;
      stream.write(`\r${progressBar(fraction)} ${describeProgress(event.label, state, t)}\x1b[K`);
      drawn = true;
    } else if (t - lastLine >= interval) {
      lastLine = t;
      stream.write(`${describeProgress(event.label, state, t)}\n`);
    }
  };

  return {
    onProgress,
    finish() {
      if (tty && drawn) stream.write('\r\x1b[K');
      const t = now();
      for (const [label, state] of states) {
        if (state.bytes >= MB) stream.write(`${describeProgress(label, state, t)}\n`);
      }
      states.clear();
    },
  };
}
