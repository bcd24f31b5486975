/**
 * An import of a Hub revision: its commit, the selected files, each pinned by
 * sha256 and size. An LFS file's sha256 and size come from the listing (no
 * download); a small file is downloaded once, hashed, and put into the
 * source cache, so the first build does not fetch it again. No workspace
 * file is written here: the generator writes asset.json through the Nx Tree.
 */
import { createHash } from 'node:crypto';
import { cachedSourcePath, sourceCachePaths } from '../sources/source-cache';
import { mapWithConcurrency } from '../util/concurrency';
import { writeFileAtomic } from '../util/atomic-write';
import type { RetryOverrides } from '../http/retry-policy';
import { createHubClient, type HubClient } from './hub-client';
import { hubEndpoint, hubToken, hubTokenVariables, resolveUrl } from './hub-endpoint';
import { HubError, type HubErrorContext } from './hub-errors';
import type { HubFile } from './hub-listing';
import type { HubRef } from './hub-ref';
import { selectHubFiles, type HubSelection } from './hub-selection';
import { pinSources, type PinnedSource } from './hub-sources';

const SMALL_FILE_DOWNLOADS = 4;

export interface HubImportOptions {
  ref: HubRef;
  selection: HubSelection;
  /** Absolute source cache directory (`assetStorePaths(root).sources`). */
  cacheDir: string;
  /** `HF_ENDPOINT`, `HF_TOKEN`, `NX_ASSET_IMAGES_TOKEN_<HOST>`; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Exact paths never taken (the asset's own files). */
  leaveOut?: ReadonlySet<string>;
  retry?: RetryOverrides;
}

export interface HubImport {
  endpoint: string;
  commit: string;
  sources: PinnedSource[];
  totalSize: number;
  /** Selected paths left out because `leaveOut` holds them. */
  leftOut: string[];
  /** Files of the revision before selection. */
  listed: number;
}

export async function importHubRevision(options: HubImportOptions): Promise<HubImport> {
  const env = options.env ?? process.env;
  const endpoint = hubEndpoint(env);
  const token = hubToken(endpoint, env);
  const context: HubErrorContext = {
    ref: options.ref,
    endpoint,
    tokenVariables: hubTokenVariables(endpoint),
    hasToken: token !== undefined,
  };
  const client = createHubClient({ ...context, token, ...(options.retry ? { retry: options.retry } : {}) });
  try {
    const { commit, files } = await client.listRevision();
    const selected = selectHubFiles(files, options.selection);
    const leftOut = selected.filter((file) => options.leaveOut?.has(file.path)).map((file) => file.path);
    const taken = selected.filter((file) => !options.leaveOut?.has(file.path));
    const hashes = await cacheSmallFiles(client, taken, { context, commit, cacheDir: options.cacheDir });
    const sources = pinSources({ endpoint, repoId: options.ref.repoId, commit, files: taken, smallFileHashes: hashes });
    return { endpoint, commit, sources, totalSize: sources.reduce((sum, s) => sum + s.size, 0), leftOut, listed: files.length };
  } finally {
    client.close();
  }
}

interface Pin {
  context: HubErrorContext;
  commit: string;
  cacheDir: string;
}

/** Downloads each small (non-LFS) file once, checks its size, and caches it by sha256; returns the sha256 by path. */
async function cacheSmallFiles(client: HubClient, files: readonly HubFile[], pin: Pin): Promise<Map<string, string>> {
  const small = files.filter((file) => file.lfs === undefined);
  const hashes = await mapWithConcurrency(small, SMALL_FILE_DOWNLOADS, async (file) => {
    const bytes = await client.download(resolveUrl(pin.context.endpoint, pin.context.ref.repoId, pin.commit, file.path));
    if (bytes.length !== file.size) {
      throw new HubError(
        'unexpected',
        pin.context,
        200,
        `${file.path} of commit ${pin.commit} is ${bytes.length} bytes, the listing says ${file.size}`,
      );
    }
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    if ((await cachedSourcePath(sha256, pin.cacheDir)) === undefined) {
      // Verified by construction: the entry's name is the hash of these bytes.
      await writeFileAtomic(sourceCachePaths(pin.cacheDir, sha256).entry, bytes);
    }
    return [file.path, sha256] as const;
  });
  return new Map(hashes);
}
