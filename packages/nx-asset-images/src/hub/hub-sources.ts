/**
 * The `sources` entries of an import, pinned to a commit, and what changed
 * between two imports. Pure.
 */
import { resolveUrl } from './hub-endpoint';
import type { HubFile } from './hub-listing';

export interface PinnedSource {
  url: string;
  sha256: string;
  size: number;
  path: string;
}

export interface PinInput {
  endpoint: string;
  repoId: string;
  /** 40 hex digits: the commit the revision named at import time. */
  commit: string;
  files: readonly HubFile[];
  /** sha256 of the downloaded small (non-LFS) files, by path. */
  smallFileHashes: ReadonlyMap<string, string>;
}

/** One entry per file, by path; an LFS file's sha256 and size from the listing, a small file's from its download. */
export function pinSources(input: PinInput): PinnedSource[] {
  return [...input.files]
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
    .map((file) => {
      const sha256 = file.lfs?.sha256 ?? input.smallFileHashes.get(file.path);
      if (sha256 === undefined) throw new Error(`internal: no sha256 for ${file.path}`);
      return {
        url: resolveUrl(input.endpoint, input.repoId, input.commit, file.path),
        sha256,
        size: file.lfs?.size ?? file.size,
        path: file.path,
      };
    });
}

export interface SourceChanges {
  added: string[];
  removed: string[];
  changed: string[];
}

interface SourceLike {
  path: string;
  sha256: string;
}

/** Paths added, removed and with other content (sha256) from `before` to `after`, each sorted. */
export function sourceChanges(before: readonly SourceLike[], after: readonly SourceLike[]): SourceChanges {
  const old = new Map(before.map((s) => [s.path, s.sha256.toLowerCase()]));
  const now = new Map(after.map((s) => [s.path, s.sha256.toLowerCase()]));
  return {
    added: [...now.keys()].filter((path) => !old.has(path)).sort(),
    removed: [...old.keys()].filter((path) => !now.has(path)).sort(),
    changed: [...now.entries()]
      .filter(([path, sha]) => old.has(path) && old.get(path) !== sha)
      .map(([path]) => path)
      .sort(),
  };
}

export function hasChanges(changes: SourceChanges): boolean {
  return changes.added.length + changes.removed.length + changes.changed.length > 0;
}
