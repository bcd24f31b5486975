/**
 * What an asset is made of, down to content hashes and single-file layer digests:
 * the files the manifest selects (and, when asked, its remote sources), the layer
 * plan, and the sha256 values, computed in one read per changed file and served
 * from the stat cache otherwise. Shared by the content key (Nx's runtime input),
 * the lock, and the image builder, so a file is read once per change, not once per tool.
 *
 * Files the committed lock pins but this clone lacks are absent, not removed:
 * missing from the folder (a gitignored weight on a fresh clone), or a Git LFS
 * pointer in their place (read without the bytes: its oid and size must be the
 * lock's). They take size, mode and sha256 from the lock, so the content key
 * is the same as where the bytes are, and their layers take the lock's
 * descriptors. A pinned file that is gone was removed when this workspace has
 * had it (its stat cache saw it) or when `files`/`exclude` no longer select it;
 * otherwise it is absent.
 */
import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { AssetFilesError } from '../errors/asset-errors';
import { mayBeLfsPointer, parseLfsPointer } from '../hashing/lfs-pointer';
import { fileSelector } from '../manifest/file-selection';
import type { Digest } from '../oci/image';
import { singleFileFrame, type SingleFileFrame } from '../tar/single-file-frame';
import type { OnProgress } from '../util/progress';
import type { AssetStorePaths } from './asset-store';
import { fetchSources } from '../sources/download-sources';
import { checkSourceCollisions, resolveAssetFiles, type AssetFile } from '../manifest/file-set';
import type { FileHash, HashFilesOptions, HashInputFile, Stamped } from '../hashing/hasher';
import { hashFiles } from '../hashing/hasher';
import { planLayers, type PlannedFile, type PlannedLayer } from './layer-plan';
import { ASSET_LOCK_FILE, lockFromHashes, readAssetLock, type AssetLock, type AssetLockImage, type AssetLockLayer } from '../lock/lock';
import type { AssetManifest } from '../manifest/manifest';
import type { StatCache } from '../hashing/stat-cache';

export interface AnalyzeAssetOptions {
  workspaceRoot: string;
  store: AssetStorePaths;
  cache: StatCache;
  /** Seconds since the epoch for every tar entry (SOURCE_DATE_EPOCH); default 0. */
  mtime?: number;
  largeFileThreshold?: number;
  /** `fetch`: download missing remote sources and include them; `skip`: local files only (content key, lock). */
  sources: 'fetch' | 'skip';
  onProgress?: OnProgress;
  /** The folder's files when the caller has scanned them already (the content index): not scanned again. */
  files?: readonly AssetFile[];
  /** What hashes the files; default `hashFiles`. A build that loads may read them into Docker on the way (`streamedLoad`). */
  hashPass?: HashPass;
}

/**
 * Hashes `files` (the ones to read: absent files are not among them) as `hashFiles` does, one result per
 * file in order; it also gets the layer plan (before any hash is known: the plan depends on paths and
 * sizes only), so it can make the layers' bytes in the same read.
 */
export type HashPass = (files: readonly HashInputFile[], options: HashFilesOptions, plan: readonly PlannedLayer[]) => Promise<FileHash[]>;

export interface AnalyzedFile extends PlannedFile {
  absPath: string;
  origin: 'local' | 'source';
  /** Pinned by the lock but not here: missing from the folder, or a Git LFS pointer in its place. Never read. */
  absent?: 'missing' | 'lfs-pointer';
}

export interface AnalyzedLayer {
  kind: 'small-files' | 'large-file';
  files: AnalyzedFile[];
  /** Large-file layers: the tar frame around the file and the uncompressed layer digest. */
  frame?: SingleFileFrame;
  layerDigest?: Digest;
  /** The lock's descriptor of this very layer (same files, sizes, modes, sha256 values and build parameters): how a layer with absent files is built. */
  pinned?: AssetLockLayer;
}

export interface AssetAnalysis {
  manifest: AssetManifest;
  layers: AnalyzedLayer[];
  /** The lock the local files call for, absent files included with the lock's values (remote sources are pinned in asset.json); no image pin yet. */
  lock: AssetLock;
  /** The committed lock as read, when there is one. */
  committedLock?: AssetLock;
  /** Files the lock pins that this clone lacks, in path order. */
  absent: AnalyzedFile[];
  /** Files the lock pins that were removed on purpose (seen here and now gone, or no longer selected), in path order. */
  removed: string[];
  /** The folder's files as scanned (with the stat each was hashed by), in path order. */
  scanned?: readonly AssetFile[];
}

type Input = {
  /** The scan's stat of the content file: hashing does not stat it again. */
  stamped?: Stamped;
  relPath: string;
  absPath: string;
  size: number;
  mode: number;
  origin: 'local' | 'source';
  absent?: 'missing' | 'lfs-pointer';
  sha256?: string;
};

/** Pointer text is ~130 bytes: a real file of a size in this range is read even when the lock gives its size. */
const POINTER_SIZES = { min: 100, max: 300 };

export async function analyzeAsset(manifest: AssetManifest, options: AnalyzeAssetOptions): Promise<AssetAnalysis> {
  const lockFile = join(manifest.projectRoot, ASSET_LOCK_FILE);
  const committedLock = await readAssetLock(join(options.workspaceRoot, lockFile));
  const pinnedPaths = Object.keys(committedLock?.files ?? {});
  if (options.files) checkSourceCollisions(manifest, options.files);
  const local = options.files ?? (await resolveAssetFiles(manifest, { workspaceRoot: options.workspaceRoot, pinned: pinnedPaths }));
  const inputs: Input[] = [];
  for (const file of local) {
    const pinned = committedLock?.files[file.relPath];
    const pointer = await readPointer(manifest, lockFile, file, pinned);
    if (pointer) {
      inputs.push({ ...pointer, relPath: file.relPath, absPath: file.absPath, origin: 'local', absent: 'lfs-pointer' });
    } else {
      const stamped = { stamp: file.stamp, statTimeNs: file.statTimeNs };
      inputs.push({ relPath: file.relPath, absPath: file.absPath, size: file.size, mode: file.mode, origin: 'local', stamped });
    }
  }
  // Pinned files the folder lacks: absent, or removed on purpose.
  const present = new Set(local.map((file) => file.relPath));
  const selected = fileSelector(manifest);
  const assetDir = resolve(options.workspaceRoot, manifest.projectRoot);
  const removed: string[] = [];
  for (const relPath of pinnedPaths) {
    if (present.has(relPath)) continue;
    const absPath = resolve(assetDir, relPath);
    const entry = committedLock!.files[relPath]!;
    if (!selected(relPath) || options.cache.hasSeen(absPath, entry.sha256)) removed.push(relPath);
    else
      inputs.push({
        relPath,
        absPath,
        size: entry.size,
        mode: entry.mode ?? 0o644,
        sha256: entry.sha256,
        origin: 'local',
        absent: 'missing',
      });
  }
  if (options.sources === 'fetch' && manifest.sources.length > 0) {
    const paths = await fetchSources(manifest.sources, { cacheDir: options.store.sources, onProgress: options.onProgress });
    for (const source of manifest.sources) {
      const absPath = paths.get(source.sha256)!;
      inputs.push({ relPath: source.path, absPath, size: (await stat(absPath)).size, mode: 0o644, origin: 'source' });
    }
  }
  inputs.sort((a, b) => (a.relPath < b.relPath ? -1 : a.relPath > b.relPath ? 1 : 0));
  const byRelPath = new Map(inputs.map((input) => [input.relPath, input]));
  const plan = planLayers(
    inputs.map((input) => ({ relPath: input.relPath, size: input.size, mode: input.mode, sha256: '' })),
    { destination: manifest.destination, largeFileThreshold: options.largeFileThreshold },
  );
  // Frames by relPath, not absPath: two entries (a symlink and its target) may share one source file.
  const frames = new Map<string, SingleFileFrame>();
  for (const layer of plan) {
    if (layer.kind !== 'large-file') continue;
    const file = layer.files[0]!;
    frames.set(file.relPath, largeFileFrame(file, options.mtime));
  }
  const readable = inputs.filter((input) => input.absent === undefined);
  const hashList = await (options.hashPass ?? hashFiles)(
    readable.map((input) => ({
      absPath: input.absPath,
      size: input.size,
      relPath: input.relPath,
      frame: frames.get(input.relPath),
      stamped: input.stamped,
    })),
    { cache: options.cache, onProgress: options.onProgress },
    plan,
  );
  const hashes = new Map<string, { sha256: string; layerDigest?: Digest }>(readable.map((input, i) => [input.relPath, hashList[i]!]));
  for (const [i, input] of readable.entries()) {
    if (input.origin === 'local') options.cache.markSeen(resolve(assetDir, input.relPath), hashList[i]!.sha256);
  }
  for (const input of inputs) if (input.absent !== undefined) hashes.set(input.relPath, { sha256: input.sha256! });
  const pins = applicablePins(committedLock, manifest, options.mtime);
  const layers: AnalyzedLayer[] = plan.map((layer) => {
    const files = layer.files.map<AnalyzedFile>((file) => {
      const input = byRelPath.get(file.relPath)!;
      return {
        ...file,
        sha256: hashes.get(file.relPath)!.sha256,
        absPath: input.absPath,
        origin: input.origin,
        ...(input.absent ? { absent: input.absent } : {}),
      };
    });
    const frame = frames.get(files[0]!.relPath);
    const hashed = layer.kind === 'large-file' ? hashes.get(files[0]!.relPath)!.layerDigest : undefined;
    return analyzedLayer(layer.kind, files, { pins, committedLock, frame, layerDigest: hashed });
  });
  return completeAnalysis(manifest, layers, { committedLock, removed, scanned: local });
}

/** A large file's single-file layer frame (its tar header and padding), for the build's `mtime`. */
export function largeFileFrame(file: Pick<PlannedFile, 'imagePath' | 'mode' | 'size'>, mtime: number | undefined): SingleFileFrame {
  return singleFileFrame({ path: file.imagePath, mode: file.mode, size: file.size }, { mtime: mtime ?? 0 });
}

/**
 * A layer of the analysis from its files: the lock's layer when it has absent files the pins stand in for, and
 * for a large file its frame and layer digest (the hash pass's, else the pinned layer's).
 */
export function analyzedLayer(
  kind: AnalyzedLayer['kind'],
  files: AnalyzedFile[],
  context: { pins?: AssetLockImage; committedLock?: AssetLock; frame?: SingleFileFrame; layerDigest?: Digest },
): AnalyzedLayer {
  const { pins, committedLock } = context;
  const pinned = pins && files.some((file) => file.absent) ? pinnedLayer(pins.layers, files, committedLock!) : undefined;
  const extra = pinned ? { pinned } : {};
  if (kind !== 'large-file') return { kind, files, ...extra };
  const layerDigest = context.layerDigest ?? (pinned?.diffID as Digest | undefined);
  return { kind, files, frame: context.frame!, ...(layerDigest ? { layerDigest } : {}), ...extra };
}

/** The analysis of these layers: the lock their local files call for and the absent files, in path order. */
export function completeAnalysis(
  manifest: AssetManifest,
  layers: AnalyzedLayer[],
  context: { committedLock?: AssetLock; removed: string[]; scanned?: readonly AssetFile[] },
): AssetAnalysis {
  const files = layers.flatMap((layer) => layer.files);
  const lock = lockFromHashes(files.filter((file) => file.origin === 'local'));
  const absent = files.filter((file) => file.absent !== undefined);
  absent.sort((a, b) => (a.relPath < b.relPath ? -1 : 1));
  const { committedLock, removed, scanned } = context;
  return { manifest, layers, lock, absent, removed, ...(scanned ? { scanned } : {}), ...(committedLock ? { committedLock } : {}) };
}

/** The committed lock's image pin when this build's parameters are the ones it was made with (its layers can stand in for absent files). */
export function applicablePins(
  committedLock: AssetLock | undefined,
  manifest: Pick<AssetManifest, 'compression' | 'destination'>,
  mtime: number | undefined,
): AssetLockImage | undefined {
  const pins = committedLock?.lockfileVersion === 2 ? committedLock.image : undefined;
  const apply =
    pins !== undefined &&
    pins.mtime === (mtime ?? 0) &&
    pins.compression === manifest.compression &&
    pins.destination === manifest.destination;
  return apply ? pins : undefined;
}

/** The lock layer holding exactly these files, each as the lock pins it; none when the layer changed. */
export function pinnedLayer(
  layers: readonly AssetLockLayer[],
  files: readonly AnalyzedFile[],
  lock: AssetLock,
): AssetLockLayer | undefined {
  if (files.some((file) => file.origin !== 'local')) return undefined;
  const paths = files.map((file) => file.relPath).sort();
  const same = files.every((file) => {
    const entry = lock.files[file.relPath];
    return entry !== undefined && entry.sha256 === file.sha256 && entry.size === file.size && (entry.mode ?? 0o644) === file.mode;
  });
  if (!same) return undefined;
  return layers.find((layer) => layer.files.length === paths.length && [...layer.files].sort().every((p, i) => p === paths[i]));
}

/**
 * A Git LFS pointer standing in for a file: its size and sha256 (and the
 * lock's mode), or undefined for a real file. Read only when the file is small
 * enough to be one and does not already have the size the lock pins (unless
 * that size is itself a pointer's).
 */
async function readPointer(
  manifest: AssetManifest,
  lockFile: string,
  file: { relPath: string; absPath: string; size: number },
  pinned: { size: number; sha256: string; mode?: number } | undefined,
): Promise<{ size: number; mode: number; sha256: string } | undefined> {
  if (!mayBeLfsPointer(file.size)) return undefined;
  const pointerSized = file.size >= POINTER_SIZES.min && file.size <= POINTER_SIZES.max;
  if (pinned && pinned.size === file.size && !pointerSized) return undefined;
  const parsed = parseLfsPointer(await readFile(file.absPath));
  if (parsed.kind === 'not-pointer') return undefined;
  if (parsed.kind === 'malformed') {
    throw new AssetFilesError(
      manifest.file,
      '',
      file.relPath,
      `starts like a Git LFS pointer but is not a valid one (${parsed.reason}); run \`git lfs pull\``,
    );
  }
  const { sha256, size } = parsed.pointer;
  if (pinned && (pinned.sha256 !== sha256 || pinned.size !== size)) {
    throw new AssetFilesError(
      manifest.file,
      '',
      file.relPath,
      `is a Git LFS pointer to sha256 ${sha256} (${size} bytes), but ${lockFile} pins sha256 ${pinned.sha256} (${pinned.size} bytes): ` +
        'check out the commit that matches the lock, or run `git lfs pull` and build where the file is',
    );
  }
  return { size, sha256, mode: pinned?.mode ?? 0o644 };
}
