/**
 * Progress of a source download: the shared `ProgressEvent` ({label, bytes,
 * total}) plus what a renderer needs for rate and ETA. Pure.
 */
import type { ProgressEvent } from '../util/progress';

export interface SourceProgressEvent extends ProgressEvent {
  /** Redacted URL. */
  url: string;
  /** sha256 hex of the source. */
  sha256: string;
  /** `Date.now()` when this download started (in this process). */
  startedAt: number;
  /** Bytes that were already there when it started (resumed partial): not part of the rate. */
  resumedFrom: number;
  /** True on the last event of a successful download. */
  done: boolean;
}

export interface ProgressRate {
  bytesPerSecond: number;
  /** Seconds left at the current average rate; undefined when the total or the rate is unknown. */
  etaSeconds?: number;
}

/** Average rate since the start and the ETA it implies, at time `now` (ms). */
export function progressRate(event: SourceProgressEvent, now: number = Date.now()): ProgressRate {
  const elapsed = Math.max(now - event.startedAt, 1) / 1000;
  const bytesPerSecond = Math.max(event.bytes - event.resumedFrom, 0) / elapsed;
  if (event.total === undefined || bytesPerSecond === 0) return { bytesPerSecond };
  return { bytesPerSecond, etaSeconds: Math.max(event.total - event.bytes, 0) / bytesPerSecond };
}
