/**
 * An analysis as columns (`AnalysisColumns`): per layer its kind, its files' paths, sizes, modes and sha256
 * values, and what of them is absent; plus the files removed on purpose. What the content key hands to the build
 * that follows it (`content-index/analysis-handover.ts`): plain arrays and one string of hex per layer, which
 * V8's serializer writes and reads back in milliseconds at 100,000 files, where the analysis's objects take a
 * second each way.
 *
 * Everything else of the analysis comes back from what the build has anyway: image paths from asset.json's
 * `destination`, content paths from its own scan, frames from its `mtime`, pinned layers from the committed lock.
 * Remote sources are not carried: an analysis with them has none of its own (the key skips them, the build
 * fetches them).
 */
import { resolve } from 'node:path';
import type { Digest } from '../oci/image';
import type { AssetLock } from '../lock/lock';
import type { AssetManifest } from '../manifest/manifest';
import type { AssetFile } from '../manifest/file-set';
import { imagePathOf } from './layer-plan';
import {
  analyzedLayer,
  applicablePins,
  completeAnalysis,
  largeFileFrame,
  type AnalyzedFile,
  type AnalyzedLayer,
  type AssetAnalysis,
} from './analyze-asset';

export interface LayerColumns {
  kind: AnalyzedLayer['kind'];
  /** A large file's layer digest as the hash pass made it (not a pinned layer's: that one comes from the lock). */
  hashedDigest?: string;
  paths: string[];
  sizes: number[];
  modes: number[];
  /** The files' sha256 values, 64 hex characters each, in order. */
  sha256: string;
  /** Index in `paths` → why that file is absent. */
  absent: Record<number, NonNullable<AnalyzedFile['absent']>>;
}

export interface AnalysisColumns {
  layers: LayerColumns[];
  removed: string[];
}

/** The analysis as columns; undefined when it has remote sources (see above). */
export function analysisColumns(analysis: AssetAnalysis): AnalysisColumns | undefined {
  const layers: LayerColumns[] = [];
  for (const layer of analysis.layers) {
    if (layer.files.some((file) => file.origin !== 'local')) return undefined;
    const absent: LayerColumns['absent'] = {};
    layer.files.forEach((file, index) => {
      if (file.absent !== undefined) absent[index] = file.absent;
    });
    // An absent large file's layer digest is its pinned layer's, found again from the lock; a present one's was hashed here.
    const hashed = layer.kind === 'large-file' && layer.files[0]!.absent === undefined ? layer.layerDigest : undefined;
    layers.push({
      kind: layer.kind,
      ...(hashed !== undefined ? { hashedDigest: hashed } : {}),
      paths: layer.files.map((file) => file.relPath),
      sizes: layer.files.map((file) => file.size),
      modes: layer.files.map((file) => file.mode),
      sha256: layer.files.map((file) => file.sha256).join(''),
      absent,
    });
  }
  return { layers, removed: [...analysis.removed] };
}

export interface AnalysisContext {
  manifest: AssetManifest;
  /** The folder's scan the columns were made from (same stamps): where each present file's content is. */
  scanned: readonly AssetFile[];
  committedLock?: AssetLock;
  /** The asset folder (absolute): where an absent file would be. */
  assetDir: string;
  mtime?: number;
}

/** The analysis the columns were made from, given what it was made with. */
export function analysisFromColumns(columns: AnalysisColumns, context: AnalysisContext): AssetAnalysis {
  const { manifest, committedLock } = context;
  const scanned = new Map(context.scanned.map((file) => [file.relPath, file]));
  const pins = applicablePins(committedLock, manifest, context.mtime);
  const layers = columns.layers.map((layer) => {
    const files = layer.paths.map<AnalyzedFile>((relPath, index) => {
      const absent = layer.absent[index];
      return {
        relPath,
        imagePath: imagePathOf(manifest.destination, relPath),
        size: layer.sizes[index]!,
        mode: layer.modes[index]!,
        sha256: layer.sha256.slice(index * 64, index * 64 + 64),
        absPath: scanned.get(relPath)?.absPath ?? resolve(context.assetDir, relPath),
        origin: 'local',
        ...(absent !== undefined ? { absent } : {}),
      };
    });
    const frame = layer.kind === 'large-file' ? largeFileFrame(files[0]!, context.mtime) : undefined;
    return analyzedLayer(layer.kind, files, { pins, committedLock, frame, layerDigest: layer.hashedDigest as Digest | undefined });
  });
  return completeAnalysis(manifest, layers, { committedLock, removed: [...columns.removed], scanned: context.scanned });
}
