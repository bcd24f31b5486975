/**
 * Whether asset.json's `files` and `exclude` select a path, without the file
 * having to exist: how a build tells a file the lock pins but this clone lacks
 * (absent: still part of the asset) from one the manifest no longer selects
 * (removed). The same rules as the folder scan in file-set.ts: globs relative to
 * the asset folder, dotfiles matched, a glob without magic that names a folder
 * stands for everything below it, `!glob` in `files` and every `exclude`
 * leave paths (and folders) out, the metadata files are never content. Pure.
 */
import picomatch from 'picomatch';
import type { AssetManifest } from './manifest';
import { isAtomicWriteTemp } from '../util/atomic-write';

const METADATA = new Set(['asset.json', 'asset.lock.json', 'README.md']);

type SelectionFields = Pick<AssetManifest, 'files' | 'exclude'>;

export function fileSelector(manifest: SelectionFields): (relPath: string) => boolean {
  const include = manifest.files.filter((glob) => !glob.startsWith('!')).map(globMatcher);
  const exclude = [...manifest.exclude, ...manifest.files.filter((glob) => glob.startsWith('!')).map((glob) => glob.slice(1))].map(
    globMatcher,
  );
  return (relPath) =>
    !METADATA.has(relPath) && !isAtomicWriteTemp(relPath) && include.some((m) => m(relPath)) && !exclude.some((m) => m(relPath));
}

/** A glob, or a path that matches itself and everything below it (a folder named without magic, or `tmp/`). */
function globMatcher(glob: string): (relPath: string) => boolean {
  const bare = glob.replace(/\/+$/, '');
  const exact = picomatch(bare, { dot: true });
  const below = picomatch(`${bare}/**`, { dot: true });
  return (relPath) => exact(relPath) || below(relPath);
}
