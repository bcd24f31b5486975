/**
 * The local files of an asset: the manifest's `files` globs minus `exclude`
 * and the asset's own metadata files, with their stats, sorted by path.
 *
 * Symlinks are never followed out of the asset folder: a symlink whose target
 * (realpath) is inside the folder stands for its target's content; one that
 * leaves it is an error. Folders below that hold their own `asset.json` are
 * other asset projects and are left out.
 */
import { lstat, realpath, stat } from 'node:fs/promises';
import { stampOf, type FileStamp } from '../hashing/stat-cache';
import { fileSelector } from './file-selection';
import { listFolderEntries } from './folder-entries';
import { isAtomicWriteTemp } from '../util/atomic-write';
import { lstatSync } from 'node:fs';
import { posix, resolve, sep } from 'node:path';
import fg from 'fast-glob';
import { AssetFilesError } from '../errors/asset-errors';
import type { AssetManifest } from './manifest';

/** Files at the asset root that are metadata, never content. */
export const ASSET_METADATA_FILES: readonly string[] = ['asset.json', 'asset.lock.json', 'README.md'];

export interface AssetFile {
  /** Path relative to the asset folder, posix separators. */
  relPath: string;
  /** The file whose bytes are the content: the realpath of the target when `relPath` is a symlink. */
  absPath: string;
  size: number;
  /** `st_mode` of the content file (type and permission bits). */
  mode: number;
  mtimeMs: number;
  /** The content file's identity and version from the scan's one stat (the stat cache's and the content index's stamp). */
  stamp: FileStamp;
  /** Wall clock (ns since the epoch) just before that stat: a stamp this close to it cannot yet prove a later same-size write. */
  statTimeNs: bigint;
  /** Set when `relPath` is a symlink (inside the folder): the link's own absolute path. */
  linkPath?: string;
}

export interface ResolveAssetFilesOptions {
  workspaceRoot: string;
  /** Paths the lock pins: a glob that matches none of the folder's files but one of these (absent in this clone) is not an error. */
  pinned?: readonly string[];
}

type ManifestFields = Pick<AssetManifest, 'file' | 'projectRoot' | 'files' | 'exclude' | 'sources'>;

export async function resolveAssetFiles(manifest: ManifestFields, options: ResolveAssetFilesOptions): Promise<AssetFile[]> {
  const assetDir = resolve(options.workspaceRoot, manifest.projectRoot);
  try {
    if (!(await stat(assetDir)).isDirectory()) throw new Error(`${assetDir} is not a directory`);
  } catch (error) {
    throw new AssetFilesError(manifest.file, '', manifest.projectRoot, 'is not a readable asset folder', { cause: error });
  }
  // Only a symlink needs it (a realpath is a syscall per path segment: most of a small asset's scan).
  let assetReal: Promise<string> | undefined;
  const realAssetDir = () => (assetReal ??= realpath(assetDir));
  const negated = manifest.files.filter((glob) => glob.startsWith('!')).map((glob) => glob.slice(1));
  // An excluded folder (`tmp`, `tmp/`) leaves out everything below it.
  const ignore = [
    ...ASSET_METADATA_FILES,
    ...[...manifest.exclude, ...negated].flatMap((glob) => {
      const bare = glob.replace(/\/+$/, '');
      return [bare, `${bare}/**`];
    }),
  ];
  const isDefaultFiles = manifest.files.length === 1 && manifest.files[0] === '**/*';
  const everything = isDefaultFiles && manifest.exclude.length === 0;

  // relPath -> { stats (lstat), field of the first glob that matched it }
  const matched = new Map<string, { stats: EntryStats; field: string }>();
  for (const [index, glob] of manifest.files.entries()) {
    if (glob.startsWith('!')) continue;
    const field = `files[${index}]`;
    const entries = await selectedEntries(assetDir, glob, ignore, everything);
    let count = 0;
    for (const entry of entries) {
      if (entry.directory || isAtomicWriteTemp(entry.path)) continue;
      // fast-glob keeps a glob's `./` segments in the path (`./a.bin`): the image and the lock name it `a.bin`.
      const relPath = DOT_SEGMENT.test(entry.path) ? posix.normalize(entry.path) : entry.path;
      const stats = entryStats(`${assetDir}${sep}${relPath}`);
      if (stats === undefined || stats.kind === 'directory') continue;
      count++;
      if (!matched.has(relPath)) matched.set(relPath, { stats, field });
    }
    const pinnedMatch = () => (options.pinned ?? []).some(fileSelector({ files: [glob], exclude: [...manifest.exclude, ...negated] }));
    if (count === 0 && !isDefaultFiles && !pinnedMatch()) {
      throw new AssetFilesError(
        manifest.file,
        field,
        glob,
        `matches no file in ${manifest.projectRoot}${manifest.exclude.length > 0 ? ' (after "exclude")' : ''}`,
      );
    }
  }

  const nestedAssets = [...matched.keys()].filter((p) => p.endsWith('/asset.json')).map((p) => p.slice(0, -'asset.json'.length));
  const files: AssetFile[] = [];
  for (const [relPath, { stats, field }] of matched) {
    if (nestedAssets.some((prefix) => relPath.startsWith(prefix))) continue;
    const absPath = `${assetDir}${sep}${relPath}`;
    if (stats.kind === 'symlink') {
      files.push(await resolveSymlink(manifest, field, relPath, absPath, await realAssetDir()));
    } else if (stats.kind === 'file') {
      const { size, mode, mtimeMs, stamp, statTimeNs } = stats;
      files.push({ relPath, absPath, size, mode, mtimeMs, stamp, statTimeNs });
    } else {
      throw new AssetFilesError(manifest.file, field, relPath, 'is not a regular file (sockets, pipes and devices cannot go in an image)');
    }
  }
  files.sort((a, b) => (a.relPath < b.relPath ? -1 : a.relPath > b.relPath ? 1 : 0));
  checkSourceCollisions(manifest, files);
  return files;
}

/** A `.` segment or an empty one: a path fast-glob did not normalise. */
const DOT_SEGMENT = /(^|\/)\.(\/|$)|\/\//;

/** What the scan keeps of an entry's lstat. */
interface EntryStats {
  kind: 'file' | 'symlink' | 'directory' | 'other';
  size: number;
  mode: number;
  mtimeMs: number;
  stamp: FileStamp;
  statTimeNs: bigint;
}

/** The entry's lstat (bigint: the stamp needs nanoseconds), or undefined when it went away since it was listed. */
function entryStats(absPath: string): EntryStats | undefined {
  const statTimeNs = BigInt(Date.now()) * 1_000_000n;
  const stats = lstatSync(absPath, { bigint: true, throwIfNoEntry: false });
  if (stats === undefined) return undefined;
  const kind = stats.isFile() ? 'file' : stats.isSymbolicLink() ? 'symlink' : stats.isDirectory() ? 'directory' : 'other';
  return { kind, size: Number(stats.size), mode: Number(stats.mode), mtimeMs: Number(stats.mtimeMs), stamp: stampOf(stats), statTimeNs };
}

/**
 * The entries `glob` selects (paths relative to the asset folder), `ignore` left out. `everything`: the default
 * selection with nothing excluded but the metadata files, listed by hand (`folder-entries.ts`).
 */
async function selectedEntries(
  assetDir: string,
  glob: string,
  ignore: string[],
  everything: boolean,
): Promise<{ path: string; directory: boolean }[]> {
  if (everything) return (await listFolderEntries(assetDir, METADATA_NAMES)).map((path) => ({ path, directory: false }));
  const pattern = await expandFolderPattern(assetDir, glob);
  // Paths and dirents only, then one synchronous lstat per file keeping four fields: fast-glob's `stats`
  // (an async lstat and a full fs.Stats per entry) cost seconds and 200 MB at 100,000 files.
  const entries = await fg(pattern, {
    cwd: assetDir,
    dot: true,
    followSymbolicLinks: false,
    onlyFiles: false,
    objectMode: true,
    ignore,
    // One traversal yields each path once; the caller keeps the first glob's (fast-glob's own check cost 0.1 s at
    // 100,000 files).
    unique: false,
  });
  return entries.map((entry) => ({ path: entry.path, directory: entry.dirent.isDirectory() }));
}

const METADATA_NAMES: ReadonlySet<string> = new Set(ASSET_METADATA_FILES);

/** A glob without magic that names a folder stands for everything below it. */
async function expandFolderPattern(assetDir: string, glob: string): Promise<string> {
  if (fg.isDynamicPattern(glob)) return glob;
  try {
    const stats = await lstat(resolve(assetDir, glob));
    if (stats.isDirectory()) return `${fg.escapePath(glob.replace(/\/+$/, ''))}/**`;
  } catch {
    // not there: fast-glob will report no match
  }
  return glob;
}

async function resolveSymlink(
  manifest: ManifestFields,
  field: string,
  relPath: string,
  linkPath: string,
  assetReal: string,
): Promise<AssetFile> {
  let target: string;
  try {
    target = await realpath(linkPath);
  } catch (error) {
    throw new AssetFilesError(manifest.file, field, relPath, 'is a symlink whose target does not exist', { cause: error });
  }
  if (!target.startsWith(assetReal + sep)) {
    throw new AssetFilesError(
      manifest.file,
      field,
      relPath,
      `is a symlink to ${target}, outside the asset folder; symlinks are never followed out of it (copy the file in, or list it in "sources")`,
    );
  }
  const statTimeNs = BigInt(Date.now()) * 1_000_000n;
  const stats = await stat(target, { bigint: true });
  if (stats.isDirectory()) {
    throw new AssetFilesError(
      manifest.file,
      field,
      relPath,
      'is a symlink to a folder; symlinked folders are not followed (list the target folder instead)',
    );
  }
  if (!stats.isFile()) {
    throw new AssetFilesError(manifest.file, field, relPath, 'is a symlink to something that is not a regular file');
  }
  const [size, mode, mtimeMs] = [Number(stats.size), Number(stats.mode), Number(stats.mtimeMs)];
  return { relPath, absPath: target, size, mode, mtimeMs, stamp: stampOf(stats), statTimeNs, linkPath };
}

/** Throws when a local file and a remote source (`sources[].path`) would be one path, or one below the other. */
export function checkSourceCollisions(manifest: ManifestFields, files: readonly AssetFile[]): void {
  if (manifest.sources.length === 0) return;
  const local = new Set(files.map((file) => file.relPath));
  manifest.sources.forEach((source, index) => {
    const field = `sources[${index}].path`;
    if (local.has(source.path)) {
      throw new AssetFilesError(manifest.file, field, source.path, 'collides with a local file of the same path; remove one of them');
    }
    const prefix = `${source.path}/`;
    const under = files.find((file) => file.relPath.startsWith(prefix));
    if (under) {
      throw new AssetFilesError(
        manifest.file,
        field,
        source.path,
        `collides with the local folder holding ${JSON.stringify(under.relPath)}`,
      );
    }
    const parent = files.find((file) => source.path.startsWith(`${file.relPath}/`));
    if (parent) {
      throw new AssetFilesError(manifest.file, field, source.path, `would go below the local file ${JSON.stringify(parent.relPath)}`);
    }
  });
}
