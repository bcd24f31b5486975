/**
 * Which files go in which layer. Pure.
 *
 * Every file at or above `largeFileThreshold` gets a layer of its own, so a
 * changed weight is one new layer and an unchanged one keeps its digest. Small
 * files are grouped, in path order, into layers of at most `smallLayerMaxBytes`
 * (a single small file bigger than that still gets its group). Order: the
 * large files by path first, then the small-file layers. Runtimes key a layer
 * by its whole stack below it (the chain id), so the layers least likely to
 * change go at the bottom: editing a config file then leaves every weight's
 * chain intact, and `docker load` or a pull re-applies only the top layer.
 * In-image paths have no leading slash (tar convention); modes are normalised
 * to 0644 or 0755.
 */
import { posix } from 'node:path';

export const DEFAULT_LARGE_FILE_THRESHOLD = 16 * 1024 * 1024;
export const DEFAULT_SMALL_LAYER_MAX_BYTES = 256 * 1024 * 1024;

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
  smallLayerMaxBytes?: number;
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
  let current: PlannedLayer | undefined;
  for (const file of planned) {
    if (file.size >= threshold) {
      large.push({ kind: 'large-file', files: [file], size: file.size });
      continue;
    }
    if (!current || (current.files.length > 0 && current.size + file.size > maxSmall)) {
      current = { kind: 'small-files', files: [], size: 0 };
      small.push(current);
    }
    current.files.push(file);
    current.size += file.size;
  }
  return [...large, ...small];
}
