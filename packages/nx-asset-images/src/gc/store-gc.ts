/**
 * Garbage collection of the local store, the one use case behind the
 * automatic prune after a build and `npx nx-asset-images gc`: with the store
 * to itself (`store-lease.ts`), read what the workspace still names
 * (`workspace-roots.ts`), list the store (`store-listing.ts`), plan
 * (`store-gc-plan.ts`), then remove (or, dry, only count) and return what was
 * freed per kind.
 */
import { relative, isAbsolute, join } from 'node:path';
import { unlink } from 'node:fs/promises';
import { assetStorePaths } from '../asset/asset-store';
import { canonicalJson } from '../oci/canonical-json';
import type { Digest } from '../oci/image';
import { familiarImageReference, parseImageReference } from '../oci/image-reference';
import { readIndex } from '../store/layout-files';
import { writeFileAtomic } from '../util/atomic-write';
import { withFileLock } from '../util/file-lock';
import { dockerTagsOf, removeDockerTag, staleContentTags } from './docker-content-tags';
import { planStoreGc } from './store-gc-plan';
import { withExclusiveStore } from './store-lease';
import { blobsDir, listStore } from './store-listing';
import { workspaceRoots } from './workspace-roots';
import { pruneStatCaches } from '../hashing/stat-cache';
import { DEFAULT_STORE_HISTORY } from '../workspace/workspace-facts';

export type GcKind = 'blobs' | 'index entries' | 'layer digests' | 'stat caches' | 'sources' | 'partial downloads' | 'docker tags';

export interface Freed {
  count: number;
  bytes: number;
}

export interface StoreGcReport {
  dryRun: boolean;
  freed: Record<GcKind, Freed>;
  /** `repo:tag` removed (or that would be). */
  dockerTags: string[];
  /** Docker was asked and answered. */
  docker: boolean;
  warnings: string[];
}

export interface StoreGcOptions {
  workspaceRoot: string;
  /** Earlier builds kept per asset besides the current one. Default `DEFAULT_STORE_HISTORY`. */
  history?: number;
  dryRun?: boolean;
  /** Remove stale content tags from the Docker engine (default true; skipped silently when none answers). */
  docker?: boolean;
  /** `wait` for running builds (manual gc) or `try` (skip when one runs: the automatic prune). */
  mode?: 'wait' | 'try';
  timeoutMs?: number;
  onWait?: (leases: readonly string[]) => void;
  env?: NodeJS.ProcessEnv;
}

export type StoreGcOutcome = { ran: true; report: StoreGcReport } | { ran: false; leases: string[] };

export function emptyFreed(): Record<GcKind, Freed> {
  const kinds: GcKind[] = ['blobs', 'index entries', 'layer digests', 'stat caches', 'sources', 'partial downloads', 'docker tags'];
  return Object.fromEntries(kinds.map((k) => [k, { count: 0, bytes: 0 }])) as Record<GcKind, Freed>;
}

function inside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
}

export async function runStoreGc(options: StoreGcOptions): Promise<StoreGcOutcome> {
  const store = assetStorePaths(options.workspaceRoot, undefined, options.env);
  const outcome = await withExclusiveStore(
    store.root,
    {
      mode: options.mode ?? 'wait',
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
      ...(options.onWait ? { onWait: options.onWait } : {}),
    },
    () => collect(options, store.root, store.ociLayout, store.sources),
  );
  return outcome.ran ? { ran: true, report: outcome.value } : outcome;
}

async function collect(options: StoreGcOptions, storeRoot: string, ociLayout: string, sourcesDir: string): Promise<StoreGcReport> {
  const dryRun = options.dryRun ?? false;
  const report: StoreGcReport = { dryRun, freed: emptyFreed(), dockerTags: [], docker: false, warnings: [] };
  const roots = await workspaceRoots(options.workspaceRoot, storeRoot, options.history ?? DEFAULT_STORE_HISTORY);
  const images = new Set<Digest>([...roots.assets.flatMap((a) => a.images), ...roots.pinned]);
  const listing = await listStore(
    {
      ociLayout,
      layerDigests: join(storeRoot, 'layer-digests'),
      // A sources cache moved outside the store (NX_ASSET_IMAGES_CACHE_DIR) may be shared with other workspaces.
      ...(inside(storeRoot, sourcesDir) && !roots.keepAllSources ? { sources: sourcesDir } : {}),
    },
    images,
  );
  const plan = planStoreGc(listing, { images, sources: roots.sources });

  const remove = async (path: string, kind: GcKind, bytes: number) => {
    if (!dryRun) {
      try {
        await unlink(path); // a symlink goes as itself; its target is never touched
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
          report.warnings.push(`cannot remove ${path}: ${(error as Error).message}`);
          return;
        }
      }
    }
    report.freed[kind].count += 1;
    report.freed[kind].bytes += bytes;
  };

  // index.json first: an entry must never name a blob that is gone.
  if (plan.removeIndexEntries.length > 0) {
    if (!dryRun) {
      const keep = new Set(plan.keepIndexEntries.map((e) => e.digest));
      await withFileLock(join(ociLayout, 'index.json.lock'), async () => {
        const index = await readIndex(ociLayout);
        if (!index) return;
        await writeFileAtomic(
          join(ociLayout, 'index.json'),
          canonicalJson({ ...index, manifests: index.manifests.filter((m) => keep.has(m.digest)) }),
        );
      });
    }
    report.freed['index entries'].count = plan.removeIndexEntries.length;
  }
  const blobs = blobsDir(ociLayout);
  for (const blob of plan.removeBlobs) await remove(join(blobs, blob.digest.slice('sha256:'.length)), 'blobs', blob.size);
  for (const stray of listing.stray) await remove(stray.path, 'blobs', stray.size);
  for (const entry of plan.removeLayerDigests)
    await remove(join(storeRoot, 'layer-digests', `${entry.key}.json`), 'layer digests', entry.size);
  for (const entry of plan.removeSources) {
    const path = join(sourcesDir, entry.kind === 'entry' ? 'sha256' : 'partial', entry.name);
    await remove(path, entry.kind === 'entry' ? 'sources' : 'partial downloads', entry.size);
  }
  // The per-asset stat caches of assets that are gone (a live asset's cache drops its gone files itself when
  // it is saved). Not while an asset.json is unreadable: its folder would look gone.
  if (!roots.keepAllSources) {
    const stat = await pruneStatCaches(
      storeRoot,
      roots.assets.map((asset) => asset.root),
      { dryRun, workspaceRoot: options.workspaceRoot },
    );
    report.freed['stat caches'].count += stat.removed.length;
    report.freed['stat caches'].bytes += stat.bytes;
  }

  if (options.docker !== false) {
    await pruneDockerTags(
      roots.assets.map((asset) => ({ ...asset, images: [...asset.images, ...roots.pinned] })),
      dryRun,
      report,
    );
  }
  return report;
}

async function pruneDockerTags(
  assets: readonly { image: string; images: Digest[]; recorded: Digest[] }[],
  dryRun: boolean,
  report: StoreGcReport,
): Promise<void> {
  for (const asset of assets) {
    let repository: string;
    try {
      const parsed = parseImageReference(asset.image);
      repository = familiarImageReference({ registry: parsed.registry, repository: parsed.repository });
    } catch {
      continue;
    }
    const tags = await dockerTagsOf(repository);
    if (tags === undefined) return; // no engine answers: Docker is not this machine's concern
    report.docker = true;
    for (const tag of staleContentTags(tags, asset.images, asset.recorded)) {
      const reference = `${repository}:${tag}`;
      try {
        if (!dryRun) await removeDockerTag(reference);
        report.dockerTags.push(reference);
        report.freed['docker tags'].count += 1;
      } catch (error) {
        report.warnings.push(`cannot remove Docker tag ${reference}: ${(error as Error).message}`);
      }
    }
  }
}
