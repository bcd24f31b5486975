/**
 * Fetches a set of remote sources into the cache with bounded parallelism.
 * When every source is cached, no request is made at all (offline builds).
 */
import { resolve } from 'node:path';
import { downloadVerified, type DownloadOptions, type SourceRef } from './download';
import { normalizeSha256, redactUrl } from './remote-source';
import { cachedSourcePath } from './source-cache';
import { mapWithConcurrency } from '../util/concurrency';

export interface FetchSourcesOptions extends DownloadOptions {
  /** Downloads at a time, default 4. */
  concurrency?: number;
}

export const DEFAULT_FETCH_CONCURRENCY = 4;

/**
 * Returns sha256 hex (lowercase) -> absolute path of the verified cache entry,
 * for every source. Sources sharing a sha256 are downloaded once. On the first
 * failure the other downloads are aborted (their partials stay, resumable) and
 * that failure is thrown.
 */
export async function fetchSources(sources: readonly SourceRef[], options: FetchSourcesOptions): Promise<Map<string, string>> {
  const cacheDir = resolve(options.cacheDir);
  const unique = new Map<string, SourceRef>();
  for (const source of sources) {
    const sha256 = normalizeSha256(source.sha256);
    if (sha256 === undefined) throw new TypeError(`not a sha256: "${source.sha256}" (source ${redactUrl(source.url)})`);
    if (!unique.has(sha256)) unique.set(sha256, { ...source, sha256 });
  }

  const result = new Map<string, string>();
  const missing: SourceRef[] = [];
  for (const [sha256, source] of unique) {
    const cached = await cachedSourcePath(sha256, cacheDir);
    if (cached !== undefined) result.set(sha256, cached);
    else missing.push(source);
  }
  if (missing.length === 0) return result;

  const stop = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
  const concurrency = Math.max(1, Math.floor(options.concurrency ?? DEFAULT_FETCH_CONCURRENCY));
  await mapWithConcurrency(missing, concurrency, async (source) => {
    try {
      result.set(source.sha256, await downloadVerified(source, { ...options, cacheDir, signal }));
    } catch (error) {
      if (!stop.signal.aborted) stop.abort(error);
      throw error;
    }
  });
  return result;
}
