/**
 * Reads what the store holds, for the planner: blobs (lstat: a symlink is
 * listed as itself and never followed), index.json entries, the manifests and
 * indexes reachable from the roots (only blobs small enough to be one),
 * layer-digest entries and remote sources.
 */
import { lstat, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Digest } from '../oci/image';
import { refNameOf } from '../oci/oci-index';
import { readIndex } from '../store/layout-files';
import type { IndexEntry, LayerDigestEntry, SourceEntry, StoreBlob, StoreListing } from './store-gc-plan';

/** Manifests and indexes are small; a larger blob is a layer, never parsed. */
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
const HEX64 = /^[0-9a-f]{64}$/;

export interface StoreDirs {
  ociLayout: string;
  layerDigests: string;
  /** Undefined when the sources cache lives outside the store (shared; not this workspace's to prune). */
  sources?: string;
}

/** Files of a directory with their lstat size, `[]` when it does not exist. */
export async function filesIn(dir: string): Promise<{ name: string; path: string; size: number }[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const files = [];
  for (const name of names.sort()) {
    const path = join(dir, name);
    const info = await lstat(path).catch(() => undefined);
    if (info && !info.isDirectory()) files.push({ name, path, size: info.size });
  }
  return files;
}

export function blobsDir(ociLayout: string): string {
  return join(ociLayout, 'blobs', 'sha256');
}

async function childrenOf(ociLayout: string, digest: Digest): Promise<Digest[] | undefined> {
  const path = join(blobsDir(ociLayout), digest.slice('sha256:'.length));
  const info = await lstat(path).catch(() => undefined);
  if (!info?.isFile() || info.size > MAX_MANIFEST_BYTES) return undefined;
  try {
    const value = JSON.parse(await readFile(path, 'utf8')) as {
      manifests?: { digest?: unknown }[];
      config?: { digest?: unknown };
      layers?: { digest?: unknown }[];
    };
    const named = [...(value.manifests ?? []), ...(value.config ? [value.config] : []), ...(value.layers ?? [])];
    return named.map((d) => d.digest).filter((d): d is Digest => typeof d === 'string' && d.startsWith('sha256:'));
  } catch {
    return undefined; // not JSON: a layer or a config-less blob
  }
}

/** Manifest graph from `roots`: digest -> what it names, for every reachable manifest or index present. */
export async function manifestGraph(ociLayout: string, roots: Iterable<Digest>): Promise<Map<Digest, Digest[]>> {
  const graph = new Map<Digest, Digest[]>();
  const seen = new Set<Digest>();
  const stack = [...roots];
  while (stack.length > 0) {
    const digest = stack.pop()!;
    if (seen.has(digest)) continue;
    seen.add(digest);
    const children = await childrenOf(ociLayout, digest);
    if (!children) continue;
    graph.set(digest, children);
    stack.push(...children);
  }
  return graph;
}

export async function listStore(
  dirs: StoreDirs,
  roots: Iterable<Digest>,
): Promise<StoreListing & { stray: { path: string; size: number }[] }> {
  const blobs: StoreBlob[] = [];
  const stray: { path: string; size: number }[] = [];
  for (const file of await filesIn(blobsDir(dirs.ociLayout))) {
    if (HEX64.test(file.name)) blobs.push({ digest: `sha256:${file.name}` as Digest, size: file.size });
    else stray.push(file); // a temp file of an interrupted write (gc runs when no writer does)
  }
  const index: IndexEntry[] = ((await readIndex(dirs.ociLayout)) ?? { manifests: [] }).manifests.map((entry) => {
    const refName = refNameOf(entry);
    return { digest: entry.digest, ...(refName !== undefined ? { refName } : {}) };
  });
  const layerDigests: LayerDigestEntry[] = [];
  for (const file of await filesIn(dirs.layerDigests)) {
    if (!file.name.endsWith('.json')) continue;
    try {
      const value = JSON.parse(await readFile(file.path, 'utf8')) as { digest?: unknown; size?: unknown };
      if (typeof value.digest === 'string') {
        layerDigests.push({ key: file.name.slice(0, -'.json'.length), digest: value.digest as Digest, size: file.size });
        continue;
      }
    } catch {
      // unreadable: an entry nothing can use
    }
    layerDigests.push({ key: file.name.slice(0, -'.json'.length), digest: 'sha256:' as Digest, size: file.size });
  }
  const sources: SourceEntry[] = [];
  if (dirs.sources) {
    for (const file of await filesIn(join(dirs.sources, 'sha256'))) {
      if (HEX64.test(file.name)) sources.push({ sha256: file.name, size: file.size, kind: 'entry', name: file.name });
    }
    for (const file of await filesIn(join(dirs.sources, 'partial'))) {
      const sha256 = file.name.slice(0, 64);
      sources.push({ sha256: HEX64.test(sha256) ? sha256 : '', size: file.size, kind: 'partial', name: file.name });
    }
  }
  const children = await manifestGraph(dirs.ociLayout, roots);
  return { blobs, index, children, layerDigests, sources, stray };
}
