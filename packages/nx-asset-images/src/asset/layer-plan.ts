/**
 * Which files go in which layer. Pure.
 *
 * Every file at or above `largeFileThreshold` gets a layer of its own, so a
 * changed weight is one new layer and an unchanged one keeps its digest. Small
 * files are grouped in path order into layers whose boundaries the paths
 * decide, not positions (content-defined, as in rsync or restic chunking): a
 * group ends after a file whose path hashes under `size / target`, so groups
 * average `target` bytes whatever the file sizes, and adding, removing or
 * editing a file re-makes the one group it is in (an edit moves a boundary only
 * when the size change crosses the file's hash, a chance of |change| / target).
 * The target starts at `smallGroupTargetBytes` and doubles while the small files
 * would make more than `MAX_SMALL_GROUPS` groups (runtimes stack at most ~127
 * layers), so it changes only when the total crosses a power of two. A group
 * also ends before it would pass `smallLayerMaxBytes` (a single small file
 * bigger than that still gets its group). Order: the
 * large files by path first, then the small-file layers. Runtimes key a layer
 * by its whole stack below it (the chain id), so the layers least likely to
 * change go at the bottom: editing a config file then leaves every weight's
 * chain intact, and `docker load` or a pull re-applies only the top layer.
 * In-image paths have no leading slash (tar convention); modes are normalised
 * to 0644 or 0755.
 */
import { createHash } from 'node:crypto';
import { posix } from 'node:path';

export const DEFAULT_LARGE_FILE_THRESHOLD = 16 * 1024 * 1024;
export const DEFAULT_SMALL_LAYER_MAX_BYTES = 256 * 1024 * 1024;
/** The bytes a small-file group aims at (before doubling for large corpora). */
export const DEFAULT_SMALL_GROUP_TARGET_BYTES = 16 * 1024 * 1024;
/** Small-file groups the target aims to stay under (overlayfs stacks ~127 layers; weights need their own). */
export const MAX_SMALL_GROUPS = 64;

export interface PlanInputFile {
  relPath: string;
  size: number;
  mode: number;
  sha256: string;
}

export interface PlannedFile {
  relPath: string;
  /** Path inside the image, without leading slash (`models/bert/weights/model.bin`). */
  imagePath: string;
  size: number;
  /** 0o644, or 0o755 when any exec bit was set. */
  mode: number;
  sha256: string;
}

export interface PlannedLayer {
  kind: 'small-files' | 'large-file';
  files: PlannedFile[];
  /** Sum of the file sizes (not the tar size). */
  size: number;
}

export interface PlanLayersOptions {
  /** Absolute directory inside the image. */
  destination: string;
  largeFileThreshold?: number;
  /** Hard maximum of a small-file group (default 256 MiB). */
  smallLayerMaxBytes?: number;
  /** What a small-file group aims at (default 16 MiB; doubled for large corpora, see MAX_SMALL_GROUPS). */
  smallGroupTargetBytes?: number;
}

/** The group target for `totalSmallBytes` of small files: `base`, doubled until at most MAX_SMALL_GROUPS groups. */
export function smallGroupTarget(totalSmallBytes: number, base: number = DEFAULT_SMALL_GROUP_TARGET_BYTES): number {
  let target = base;
  while (totalSmallBytes / target > MAX_SMALL_GROUPS) target *= 2;
  return target;
}

/** The path's place in [0, 1): the first 32 bits of its sha256. The same on every machine. */
export function pathHashFraction(imagePath: string): number {
  return createHash('sha256').update(imagePath).digest().readUInt32BE(0) / 2 ** 32;
}

/** Does a small-file group end after `file`? When its path hashes under its share of the target. */
export function endsGroup(file: Pick<PlannedFile, 'imagePath' | 'size'>, target: number): boolean {
  return pathHashFraction(file.imagePath) < Math.min(1, Math.max(file.size, 1) / target);
}

export function normaliseMode(mode: number): number {
  return (mode & 0o111) !== 0 ? 0o755 : 0o644;
}

/** The path of `relPath` inside the image under `destination`, without leading slash. */
export function imagePathOf(destination: string, relPath: string): string {
  return posix.join(destination, relPath).replace(/^\/+/, '');
}

export function planLayers(files: readonly PlanInputFile[], options: PlanLayersOptions): PlannedLayer[] {
  const threshold = options.largeFileThreshold ?? DEFAULT_LARGE_FILE_THRESHOLD;
  const maxSmall = options.smallLayerMaxBytes ?? DEFAULT_SMALL_LAYER_MAX_BYTES;
  const planned = files
    .map<PlannedFile>((file) => ({
      relPath: file.relPath,
      imagePath: imagePathOf(options.destination, file.relPath),
      size: file.size,
      mode: normaliseMode(file.mode),
      sha256: file.sha256,
    }))
    .sort((a, b) => (a.imagePath < b.imagePath ? -1 : a.imagePath > b.imagePath ? 1 : 0));
  for (let i = 1; i < planned.length; i++) {
    if (planned[i].imagePath === planned[i - 1].imagePath) {
      throw new Error(`planLayers: two files map to the same image path ${JSON.stringify(planned[i].imagePath)}`);
    }
  }
  const small: PlannedLayer[] = [];
  const large: PlannedLayer[] = [];
  const smallFiles: PlannedFile[] = [];
  for (const file of planned) {
    if (file.size >= threshold) large.push({ kind: 'large-file', files: [file], size: file.size });
    else smallFiles.push(file);
  }
  const target = smallGroupTarget(
    smallFiles.reduce((sum, file) => sum + file.size, 0),
    options.smallGroupTargetBytes ?? DEFAULT_SMALL_GROUP_TARGET_BYTES,
  );
  let current: PlannedLayer | undefined;
  for (const file of smallFiles) {
    if (!current || (current.files.length > 0 && current.size + file.size > maxSmall)) {
      current = { kind: 'small-files', files: [], size: 0 };
      small.push(current);
    }
    current.files.push(file);
    current.size += file.size;
    if (endsGroup(file, target)) current = undefined;
  }
  return [...large, ...small];
}
