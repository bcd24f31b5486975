/**
 * A persistent key -> JSON value cache for the project-graph work (createNodes
 * results, Dockerfile references), like the caches of Nx's own plugins
 * (@nx/vite, @nx/docker): one JSON file in Nx's workspace data directory
 * (`.nx/workspace-data`, cleared by `nx reset`), read once per process,
 * rewritten at the end of createNodes / createDependencies when it changed.
 *
 * Keys are content hashes (see `cacheKey`) that include the plugin version,
 * so an entry is never stale, only unused; a write keeps the entries used
 * since the previous write (plus the ones it has not been asked about yet,
 * up to a bound), so deleted files do not accumulate.
 *
 * Only the workspace Nx runs in gets a file; any other root (unit tests with
 * temp folders) gets an in-memory cache.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic-write';
import { nxWorkspaceRoot, workspaceDataDirectory } from '../nx/nx-api';
import { PLUGIN_PACKAGE_VERSION } from '../util/plugin-version';

const FILE_PREFIX = 'nx-asset-images-';
/** Entries kept beyond those used since the last write (another nx command may use them). */
const MAX_UNUSED = 5000;

/** This package's version: part of every key, so an upgrade never reads the previous version's results. */
export function pluginVersionForCache(): string {
  return PLUGIN_PACKAGE_VERSION;
}

/** sha256 of the parts (each length-prefixed, so no two part lists collide) and the plugin version. */
export function cacheKey(...parts: readonly string[]): string {
  const hash = createHash('sha256');
  for (const part of [pluginVersionForCache(), ...parts]) hash.update(`${Buffer.byteLength(part)}:`).update(part);
  return hash.digest('base64url');
}

export class GraphCache<V> {
  private entries: Map<string, V> | undefined;
  private readonly used = new Set<string>();
  private dirty = false;

  /** `file` undefined: in memory only. */
  constructor(readonly file: string | undefined) {}

  private load(): Map<string, V> {
    if (this.entries) return this.entries;
    this.entries = new Map();
    if (this.file) {
      try {
        const data = JSON.parse(readFileSync(this.file, 'utf8')) as unknown;
        if (data && typeof data === 'object' && !Array.isArray(data)) {
          for (const [key, value] of Object.entries(data as Record<string, V>)) this.entries.set(key, value);
        }
      } catch {
        // missing or corrupt: start empty (it is only a cache)
      }
    }
    return this.entries;
  }

  get(key: string): V | undefined {
    const value = this.load().get(key);
    if (value !== undefined) this.used.add(key);
    return value;
  }

  set(key: string, value: V): void {
    this.load().set(key, value);
    this.used.add(key);
    this.dirty = true;
  }

  /** Writes the file when entries were added; never throws (a cache that cannot be written is just slower). */
  async flush(): Promise<void> {
    if (!this.file || !this.entries || !this.dirty) {
      this.used.clear();
      return;
    }
    const out: Record<string, V> = {};
    for (const key of this.used) {
      const value = this.entries.get(key);
      if (value !== undefined) out[key] = value;
    }
    let unused = 0;
    for (const [key, value] of this.entries) {
      if (this.used.has(key)) continue;
      if (++unused > MAX_UNUSED) break;
      out[key] = value;
    }
    this.dirty = false;
    this.used.clear();
    try {
      await writeFileAtomic(this.file, JSON.stringify(out));
    } catch {
      // read-only workspace data directory and the like
    }
  }
}

const caches = new Map<string, GraphCache<unknown>>();

/** The cache named `name` for `workspaceRoot` (one instance per process). */
export function graphCache<V>(name: string, workspaceRoot: string): GraphCache<V> {
  const id = `${name}\0${workspaceRoot}`;
  let cache = caches.get(id);
  if (!cache) {
    cache = new GraphCache<unknown>(persistentFile(name, workspaceRoot));
    caches.set(id, cache);
  }
  return cache as GraphCache<V>;
}

function persistentFile(name: string, workspaceRoot: string): string | undefined {
  try {
    if (nxWorkspaceRoot() !== workspaceRoot) return undefined;
    return join(workspaceDataDirectory(), `${FILE_PREFIX}${name}.json`);
  } catch {
    return undefined;
  }
}
