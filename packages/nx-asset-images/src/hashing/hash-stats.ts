import { appendFileSync } from 'node:fs';
import { hashCounters } from './hasher';

export const HASH_STATS_ENV = 'NX_ASSET_IMAGES_HASH_STATS';

/**
 * When `NX_ASSET_IMAGES_HASH_STATS` names a file, appends one JSON line with the
 * bytes this process read to hash asset content: how tests and benchmarks prove
 * that unchanged weights are never read again.
 */
export function recordHashStats(tool: string, env: NodeJS.ProcessEnv = process.env): void {
  const file = env[HASH_STATS_ENV];
  if (!file) return;
  appendFileSync(file, `${JSON.stringify({ tool, pid: process.pid, ...hashCounters })}\n`);
}
