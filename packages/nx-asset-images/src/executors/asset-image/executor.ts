import { readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { logger, type ExecutorContext } from '../../nx/devkit';
import { analyzeAsset } from '../../build/analyze-asset';
import { assetBuildParameters, assetImageResult, writeAssetImageResult, type AssetImageResult } from '../../build/asset-image-result';
import type { Image } from '../../oci/image';
import { assetStorePaths } from '../../build/asset-store';
import { buildAssetImage } from '../../build/build-asset-image';
import { LayerDigestCache } from '../../build/layer-digest-cache';
import { assetReferences } from '../../build/image-references';
import { reconcileAssetLock } from '../../lock/lock-check';
import { ensureAssetImageInDocker } from '../../resolve/docker-presence';
import { parseAssetManifest } from '../../manifest/manifest';
import { AssetManifestError } from '../../errors/asset-errors';
import { CompressionUnavailableError, isCompressionAvailable } from '../../oci/compression';
import { StatCache } from '../../hashing/stat-cache';
import { recordHashStats } from '../../hashing/hash-stats';
import { dockerEngineVersion } from '../../transports/docker-engine';
import { writeOciLayout } from '../../transports/oci-layout';
import { createProgressRenderer, formatBytes } from '../progress-renderer';
import { isCI, parsePlatform, sourceDateEpoch } from '../../build/environment';

export interface AssetImageExecutorOptions {
  manifest: string;
  outputPath: string;
  load?: boolean | 'auto';
  ociLayout?: boolean;
  platform?: string;
  largeFileThreshold?: number;
}

export default async function assetImageExecutor(
  options: AssetImageExecutorOptions,
  context: ExecutorContext,
): Promise<{ success: boolean }> {
  try {
    await buildAssetImageTask(options, context.root);
    return { success: true };
  } catch (error) {
    logger.error(error instanceof Error ? error.message : String(error));
    if (process.env['NX_VERBOSE_LOGGING'] === 'true' && error instanceof Error && error.stack) logger.error(error.stack);
    return { success: false };
  }
}

/** Writes the image into the layout store and loads it into Docker, as the options say: the steps that stream its layers. */
async function deliverImage(
  image: Image,
  references: string[],
  result: AssetImageResult,
  options: AssetImageExecutorOptions,
  workspaceRoot: string,
  manifestFile: string,
  ociLayout: string,
): Promise<void> {
  if (options.ociLayout ?? true) {
    const layoutProgress = createProgressRenderer();
    try {
      const written = await writeOciLayout(ociLayout, image, { refNames: references, onProgress: layoutProgress.onProgress });
      logger.info(`OCI layout ${posix.relative(workspaceRoot, ociLayout) || ociLayout}: ${written.written.length} blob(s) written, ${written.skipped.length} already there`);
    } finally {
      layoutProgress.finish();
    }
  }

  const load = options.load ?? 'auto';
  if (load !== false) {
    const engine = await dockerEngineVersion();
    if (engine) {
      const loadProgress = createProgressRenderer();
      try {
        // Docker may hold this very build already (same config digest): then only tags move, no bytes.
        const outcome = await ensureAssetImageInDocker(workspaceRoot, manifestFile, result, references, {
          onProgress: loadProgress.onProgress,
          resolveImage: async () => ({ image, origin: 'sources' }),
        });
        const what =
          outcome.action === 'none'
            ? 'already held it'
            : outcome.action === 'tagged'
              ? 'held the image; tagged it'
              : outcome.action.layersSent === outcome.action.layers
                ? 'loaded it'
                : `loaded it (sent ${outcome.action.layersSent} of ${outcome.action.layers} layers; it held the others)`;
        logger.info(`Docker ${engine}: ${what} (${result.configDigest})`);
      } finally {
        loadProgress.finish();
      }
    } else if (load === true) {
      throw new Error(`${manifestFile}: load is true but no Docker engine answers (DOCKER_HOST=${process.env['DOCKER_HOST'] ?? 'default'})`);
    } else {
      logger.info('No Docker engine answers: the image was not loaded (set load: false to skip this check).');
    }
  }
}

export async function buildAssetImageTask(options: AssetImageExecutorOptions, workspaceRoot: string): Promise<void> {
  const started = Date.now();
  const manifestFile = options.manifest;
  const manifest = parseAssetManifest(readFileSync(join(workspaceRoot, manifestFile), 'utf8'), manifestFile, posix.dirname(manifestFile));
  if (!isCompressionAvailable(manifest.compression)) {
    // Before anything is hashed or written: nothing half-done for a build that cannot finish.
    throw new AssetManifestError(manifestFile, 'compression', `a codec this Node.js has (${new CompressionUnavailableError(manifest.compression).message})`, manifest.compression);
  }
  const store = assetStorePaths(workspaceRoot);
  const cache = await StatCache.load(store.statCache);
  const mtime = sourceDateEpoch();
  const progress = createProgressRenderer();
  let analysis;
  try {
    analysis = await analyzeAsset(manifest, {
      workspaceRoot,
      store,
      cache,
      mtime,
      largeFileThreshold: options.largeFileThreshold,
      sources: 'fetch',
      onProgress: progress.onProgress,
    });
  } finally {
    progress.finish();
    await cache.save();
    recordHashStats('asset-image');
  }
  const lock = await reconcileAssetLock(workspaceRoot, manifest.projectRoot, analysis.lock, isCI());
  if (lock === 'written') logger.info(`Updated ${posix.join(manifest.projectRoot, 'asset.lock.json')}: commit it so \`nx affected\` sees the change.`);

  const platform = parsePlatform(options.platform ?? 'linux/amd64');
  const layerDigests = new LayerDigestCache(join(store.root, 'layer-digests'));
  // Recorded so that every later rebuild (cache hit, docker-build, asset-push) uses what this one did.
  const build = assetBuildParameters({ mtime, platform, largeFileThreshold: options.largeFileThreshold, compression: manifest.compression });
  let image: Image;
  let result: AssetImageResult;
  for (let round = 1; ; round++) {
    image = await buildAssetImage(analysis, { mtime, platform, layerDigests });
    const refs = assetReferences(manifest.image, manifest.tags, image.manifest.descriptor.digest);
    result = assetImageResult(analysis, image, refs, build);
    const staleBefore = layerDigests.staleEntries;
    try {
      await deliverImage(image, refs.references, result, options, workspaceRoot, manifestFile, store.ociLayout);
      break;
    } catch (error) {
      // A remembered layer digest the streamed bytes contradicted: the entry is corrected by now, so the
      // image is assembled again with the right digest (each round fixes at least one entry).
      if (layerDigests.staleEntries === staleBefore || round > 2 * image.layers.length) throw error;
      logger.warn(`${manifest.name}: ${layerDigests.stale.at(-1)!.message}; assembling the image again`);
    }
  }

  await writeAssetImageResult(join(workspaceRoot, options.outputPath), result);
  logger.info(
    [
      `${manifest.name}: ${result.manifestDigest} (${image.layers.length} layer(s), ${formatBytes(result.size)}) in ${((Date.now() - started) / 1000).toFixed(2)} s`,
      ...result.references.map((reference) => `  ${reference}`),
    ].join('\n'),
  );
}
