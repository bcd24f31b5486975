/**
 * The pure core of the store's garbage collection: given what the store holds
 * and the digests something still names (roots), decide what stays and what
 * goes. No fs, no Docker: `store-gc.ts` lists, this decides, `store-gc.ts`
 * removes.
 *
 * Reachability: a root (or an index.json entry's digest that is a root) keeps
 * its blob; a kept image index keeps its manifests, a kept manifest its config
 * and layers. A digest that is named but absent stays named (a lazy layout
 * writes layer blobs only when something needs them): the layer-digest cache
 * entries of such layers are kept too, since the next build needs them.
 */
import type { Digest } from '../oci/image';

export interface StoreBlob {
  digest: Digest;
  size: number;
}

export interface IndexEntry {
  digest: Digest;
  refName?: string;
}

export interface LayerDigestEntry {
  key: string;
  digest: Digest;
  size: number;
}

export interface SourceEntry {
  sha256: string;
  size: number;
  /** `entry` a verified source; `partial` an unfinished download (`.part`, or its `.lock`). */
  kind: 'entry' | 'partial';
  /** File name under its directory (`<hex>`, `<hex>.part`, `<hex>.lock`). */
  name: string;
}

export interface StoreListing {
  blobs: readonly StoreBlob[];
  index: readonly IndexEntry[];
  /** For every manifest or image index blob read: the digests it names (manifests; config and layers). */
  children: ReadonlyMap<Digest, readonly Digest[]>;
  layerDigests: readonly LayerDigestEntry[];
  sources: readonly SourceEntry[];
}

export interface StoreRoots {
  /** Image (index or manifest) digests to keep: current results, locks, history. */
  images: ReadonlySet<Digest>;
  /** sha256 hex of remote sources some asset.json or lock names. */
  sources: ReadonlySet<string>;
}

export interface StoreGcPlan {
  /** Every digest the kept images name, present or not. */
  named: ReadonlySet<Digest>;
  removeBlobs: StoreBlob[];
  removeIndexEntries: IndexEntry[];
  keepIndexEntries: IndexEntry[];
  removeLayerDigests: LayerDigestEntry[];
  removeSources: SourceEntry[];
}

/** Digests reachable from `roots` through `children` (roots included). */
export function reachableDigests(roots: Iterable<Digest>, children: ReadonlyMap<Digest, readonly Digest[]>): Set<Digest> {
  const seen = new Set<Digest>();
  const stack = [...roots];
  while (stack.length > 0) {
    const digest = stack.pop()!;
    if (seen.has(digest)) continue;
    seen.add(digest);
    for (const child of children.get(digest) ?? []) stack.push(child);
  }
  return seen;
}

export function planStoreGc(listing: StoreListing, roots: StoreRoots): StoreGcPlan {
  const named = reachableDigests(roots.images, listing.children);
  const keepIndexEntries = listing.index.filter((entry) => roots.images.has(entry.digest));
  const removeIndexEntries = listing.index.filter((entry) => !roots.images.has(entry.digest));
  return {
    named,
    removeBlobs: listing.blobs.filter((blob) => !named.has(blob.digest)),
    removeIndexEntries,
    keepIndexEntries,
    removeLayerDigests: listing.layerDigests.filter((entry) => !named.has(entry.digest)),
    removeSources: listing.sources.filter((entry) => !roots.sources.has(entry.sha256)),
  };
}

/** The images to keep of one asset: the current one, then up to `history` earlier ones (newest first, distinct). */
export function keptHistory(current: Digest | undefined, history: readonly Digest[], size: number): Digest[] {
  const kept: Digest[] = current ? [current] : [];
  for (const digest of history) {
    if (kept.length - (current ? 1 : 0) >= size) break;
    if (!kept.includes(digest)) kept.push(digest);
  }
  return kept;
}
