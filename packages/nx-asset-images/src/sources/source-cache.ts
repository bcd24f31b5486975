/**
 * The workspace-wide cache of remote sources, keyed by sha256:
 *
 *   <cacheDir>/sha256/<hex>         verified entries (written only by rename after the sha256 matched)
 *   <cacheDir>/partial/<hex>.part   bytes of an unfinished download (resumable)
 *   <cacheDir>/partial/<hex>.lock   held by the process downloading <hex>
 *
 * `cacheDir` defaults to `<workspaceRoot>/.asset-images/sources`, overridden by
 * the env `NX_ASSET_IMAGES_CACHE_DIR`, itself overridden by an explicit option.
 * Because an entry only ever appears by `rename` of verified bytes, its
 * existence means it is complete and correct; nothing else is trusted.
 */
import { mkdir, rename, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { acquireFileLock, type ReleaseFileLock } from '../util/file-lock';
import { isSha256Hex } from './remote-source';
import { firstWorkspacePath } from '../util/workspace-path';

export const CACHE_DIR_ENV = 'NX_ASSET_IMAGES_CACHE_DIR';
export const DEFAULT_CACHE_SUBDIR = join('.asset-images', 'sources');

export interface SourceCacheDirOptions {
  workspaceRoot: string;
  /** Explicit cache directory (relative paths are taken from workspaceRoot). Wins over the env. */
  cacheDir?: string;
  /** Defaults to process.env. */
  env?: NodeJS.ProcessEnv;
  /** When neither option nor env is set; default `.asset-images/sources` (relative paths from workspaceRoot). */
  defaultDir?: string;
}

/**
 * Option > `NX_ASSET_IMAGES_CACHE_DIR` > `defaultDir` (`<workspaceRoot>/.asset-images/sources`);
 * empty or blank values count as unset, relative paths are resolved against the workspace root; always absolute.
 */
export function resolveSourceCacheDir(options: SourceCacheDirOptions): string {
  const env = options.env ?? process.env;
  return firstWorkspacePath(options.workspaceRoot, options.cacheDir, env[CACHE_DIR_ENV], options.defaultDir, DEFAULT_CACHE_SUBDIR)!;
}

export interface SourceCachePaths {
  /** The verified entry. */
  entry: string;
  /** The resumable partial download. */
  partial: string;
  /** The lock held while downloading. */
  lock: string;
}

/** Where everything about `sha256` lives under `cacheDir`. Throws on anything but 64 lowercase hex (no path tricks). */
export function sourceCachePaths(cacheDir: string, sha256: string): SourceCachePaths {
  if (!isSha256Hex(sha256)) throw new TypeError(`not a lowercase sha256 hex: "${sha256}"`);
  return {
    entry: join(cacheDir, 'sha256', sha256),
    partial: join(cacheDir, 'partial', `${sha256}.part`),
    lock: join(cacheDir, 'partial', `${sha256}.lock`),
  };
}

/** Absolute path of the verified cache entry for `sha256`, or undefined when it is not cached. */
export async function cachedSourcePath(sha256: string, cacheDir: string): Promise<string | undefined> {
  const { entry } = sourceCachePaths(cacheDir, sha256);
  try {
    const info = await stat(entry);
    return info.isFile() ? resolve(entry) : undefined;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Moves `verifiedFile` (whose sha256 the caller checked) into the cache; same filesystem required (it lives in `partial/`). */
export async function commitVerifiedSource(cacheDir: string, sha256: string, verifiedFile: string): Promise<string> {
  const { entry } = sourceCachePaths(cacheDir, sha256);
  await mkdir(join(cacheDir, 'sha256'), { recursive: true });
  await rename(verifiedFile, entry);
  return resolve(entry);
}

/**
 * Takes the per-sha256 download lock, so that two processes (two Nx tasks)
 * never write the same partial file. Waits while another live process holds
 * it (however long its download takes); takes it over when its holder is gone
 * (`acquireFileLock`). Returns the release function.
 */
export async function acquireSourceLock(cacheDir: string, sha256: string, signal?: AbortSignal): Promise<ReleaseFileLock> {
  return acquireFileLock(sourceCachePaths(cacheDir, sha256).lock, signal ? { signal } : {});
}
