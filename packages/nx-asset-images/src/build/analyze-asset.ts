/**
 * What an asset is made of, down to content hashes and single-file layer digests:
 * the files the manifest selects (and, when asked, its remote sources), the layer
 * plan, and the sha256 values, computed in one read per changed file and served
 * from the stat cache otherwise. Shared by the content key (Nx's runtime input),
 * the lock, and the image builder, so a file is read once per change, not once per tool.
 */
import { stat } from 'node:fs/promises';
import type { Digest } from '../oci/image';
import { singleFileFrame, type SingleFileFrame } from '../tar/single-file-frame';
import type { OnProgress } from '../util/progress';
import type { AssetStorePaths } from './asset-store';
import { fetchSources } from '../sources/download-sources';
import { resolveAssetFiles } from '../manifest/file-set';
import { hashFiles } from '../hashing/hasher';
import { planLayers, type PlannedFile } from './layer-plan';
import { lockFromHashes, type AssetLock } from '../lock/lock';
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
}

export interface AnalyzedFile extends PlannedFile {
  absPath: string;
  origin: 'local' | 'source';
}

export interface AnalyzedLayer {
  kind: 'small-files' | 'large-file';
  files: AnalyzedFile[];
  /** Large-file layers: the tar frame around the file and the uncompressed layer digest. */
  frame?: SingleFileFrame;
  layerDigest?: Digest;
}

export interface AssetAnalysis {
  manifest: AssetManifest;
  layers: AnalyzedLayer[];
  /** The lock the local files call for (remote sources are pinned in asset.json). */
  lock: AssetLock;
}

export async function analyzeAsset(manifest: AssetManifest, options: AnalyzeAssetOptions): Promise<AssetAnalysis> {
  const local = await resolveAssetFiles(manifest, { workspaceRoot: options.workspaceRoot });
  const inputs: { relPath: string; absPath: string; size: number; mode: number; origin: 'local' | 'source' }[] = local.map((file) => ({
    relPath: file.relPath,
    absPath: file.absPath,
    size: file.size,
    mode: file.mode,
    origin: 'local',
  }));
  if (options.sources === 'fetch' && manifest.sources.length > 0) {
    const paths = await fetchSources(manifest.sources, { cacheDir: options.store.sources, onProgress: options.onProgress });
    for (const source of manifest.sources) {
      const absPath = paths.get(source.sha256)!;
      inputs.push({ relPath: source.path, absPath, size: (await stat(absPath)).size, mode: 0o644, origin: 'source' });
    }
  }
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
    frames.set(file.relPath, singleFileFrame({ path: file.imagePath, mode: file.mode, size: file.size }, { mtime: options.mtime ?? 0 }));
  }
  const hashList = await hashFiles(
    inputs.map((input) => ({ absPath: input.absPath, size: input.size, relPath: input.relPath, frame: frames.get(input.relPath) })),
    { cache: options.cache, onProgress: options.onProgress },
  );
  const hashes = new Map(inputs.map((input, i) => [input.relPath, hashList[i]!]));
  const layers: AnalyzedLayer[] = plan.map((layer) => {
    const files = layer.files.map<AnalyzedFile>((file) => {
      const input = byRelPath.get(file.relPath)!;
      return { ...file, sha256: hashes.get(file.relPath)!.sha256, absPath: input.absPath, origin: input.origin };
    });
    if (layer.kind !== 'large-file') return { kind: layer.kind, files };
    const frame = frames.get(files[0]!.relPath)!;
    return { kind: layer.kind, files, frame, layerDigest: hashes.get(files[0]!.relPath)!.layerDigest };
  });
  const lock = lockFromHashes(layers.flatMap((layer) => layer.files).filter((file) => file.origin === 'local'));
  return { manifest, layers, lock };
}
