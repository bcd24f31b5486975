/**
 * An asset ready to build: asset.json parsed and validated, its content hashed
 * through the stat cache (unchanged files are only stat'ed). What the content
 * key, the lock generator, a rebuild (resolve) and the build itself start from.
 */
import { readFileSync } from 'node:fs';
import { join, posix, resolve } from 'node:path';
import type { OnProgress } from '../util/progress';
import { CompressionUnavailableError, isCompressionAvailable } from '../oci/layer-codecs';
import { AssetManifestError } from '../errors/asset-errors';
import { parseAssetManifest } from '../manifest/manifest';
import { StatCache } from '../hashing/stat-cache';
import { recordHashStats } from '../hashing/hash-stats';
import { analyzeAsset, type AssetAnalysis, type HashPass } from '../asset/analyze-asset';
import type { AssetBuildOptions } from '../asset/build-options';
import type { AssetFile } from '../manifest/file-set';

export interface PrepareAssetOptions {
  /** `fetch`: download missing remote sources and include them (a build); `skip`: local files only (content key, lock). */
  sources: 'fetch' | 'skip';
  /** The asset.json text when it does not come from disk (a generator's Tree). */
  text?: string;
  /** The asset's stat cache when the caller holds it open (`withStatCache`); default: loaded here and saved after. */
  cache?: StatCache;
  /** A build: the manifest's codec must be available before anything is hashed or written. */
  requireCodec?: boolean;
  /** Names the hash statistics line (NX_ASSET_IMAGES_HASH_STATS); none: not recorded. */
  statsTool?: string;
  onProgress?: OnProgress;
  /** The folder's files when the caller has scanned them with this manifest's selection: not scanned again. */
  files?: readonly AssetFile[];
  /** What hashes the files (see AnalyzeAssetOptions); default `hashFiles`. */
  hashPass?: HashPass;
}

/** Loads the stat cache of the asset at `projectRoot` (workspace-relative), runs `work` with it and saves it, whatever `work` does. */
export async function withStatCache<T>(
  options: AssetBuildOptions,
  projectRoot: string,
  work: (cache: StatCache) => Promise<T>,
  statsTool?: string,
): Promise<T> {
  const cache = await StatCache.load(options.store.statCache, resolve(options.workspaceRoot, projectRoot));
  try {
    return await work(cache);
  } finally {
    await cache.save();
    if (statsTool !== undefined) recordHashStats(statsTool);
  }
}

/** asset.json (workspace-relative `manifestFile`) parsed, validated and hashed: files, layer plan, sha256 values, lock. */
export async function prepareAsset(options: AssetBuildOptions, manifestFile: string, prepare: PrepareAssetOptions): Promise<AssetAnalysis> {
  const text = prepare.text ?? readFileSync(join(options.workspaceRoot, manifestFile), 'utf8');
  const manifest = parseAssetManifest(text, manifestFile, posix.dirname(manifestFile));
  if (prepare.requireCodec && !isCompressionAvailable(manifest.compression)) {
    const unavailable = new CompressionUnavailableError(manifest.compression);
    throw new AssetManifestError(manifestFile, 'compression', `a codec this Node.js has (${unavailable.message})`, manifest.compression, {
      cause: unavailable,
    });
  }
  const analyze = (cache: StatCache) =>
    analyzeAsset(manifest, {
      workspaceRoot: options.workspaceRoot,
      store: options.store,
      cache,
      mtime: options.mtime,
      largeFileThreshold: options.largeFileThreshold,
      sources: prepare.sources,
      onProgress: prepare.onProgress,
      ...(prepare.files ? { files: prepare.files } : {}),
      ...(prepare.hashPass ? { hashPass: prepare.hashPass } : {}),
    });
  return prepare.cache ? analyze(prepare.cache) : withStatCache(options, manifest.projectRoot, analyze, prepare.statsTool);
}

/**
 * A handed-over analysis (the content key's, `content-index/analysis-handover.ts`) through `hashPass`, for a
 * build whose pass does more than hash (the streamed load reads the files into Docker): the same inputs and
 * plan `analyzeAsset` would give it, through the stat cache. True when every hash came out as the analysis has
 * it; false when a file changed since (the caller analyzes anew).
 */
export async function passHandedAnalysis(
  options: AssetBuildOptions,
  analysis: AssetAnalysis,
  hashPass: HashPass,
  onProgress?: OnProgress,
): Promise<boolean> {
  const stamps = new Map((analysis.scanned ?? []).map((file) => [file.relPath, { stamp: file.stamp, statTimeNs: file.statTimeNs }]));
  const readable = analysis.layers.flatMap((layer) =>
    layer.files
      .filter((file) => file.absent === undefined)
      .map((file) => ({ file, large: layer.kind === 'large-file' ? layer : undefined })),
  );
  const plan = analysis.layers.map((layer) => ({
    kind: layer.kind,
    files: layer.files,
    size: layer.files.reduce((sum, file) => sum + file.size, 0),
  }));
  const inputs = readable.map(({ file, large }) => ({
    absPath: file.absPath,
    size: file.size,
    relPath: file.relPath,
    ...(large?.frame ? { frame: large.frame } : {}),
    ...(stamps.has(file.relPath) ? { stamped: stamps.get(file.relPath)! } : {}),
  }));
  const hashes = await withStatCache(options, analysis.manifest.projectRoot, (cache) =>
    hashPass(inputs, { cache, ...(onProgress ? { onProgress } : {}) }, plan),
  );
  return readable.every(
    ({ file, large }, i) => hashes[i]!.sha256 === file.sha256 && (large === undefined || hashes[i]!.layerDigest === large.layerDigest),
  );
}
