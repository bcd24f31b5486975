/**
 * The build use case, once for every entry point: parse asset.json, hash its
 * content through the stat cache (`prepareAsset`: what the content key and the
 * lock generator need), then bring the lock in line, assemble the image, write
 * it into the layout store, load it into Docker and record the small result
 * (`buildAsset`; `buildAssetInStore`, what the asset-image executor runs, holds
 * a lease on the store and records the build in its history). Reports through
 * `AssetBuildReporter`; rendering is the caller's.
 */
import { readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { currentHistoryStamp, currentLockDigest, saveContentIndexRow } from '../content-index/content-key-line';
import type { Descriptor, Image } from '../oci/image';
import { SILENT_REPORTER, type Reporter } from '../util/progress';
import { reconcileAssetLock } from '../lock/lock-check';
import { hasBlob } from '../store/blob-store';
import { lockWithBuilt } from '../asset/lock-pin';
import { ensureAssetImageInDocker, type EnsureInDockerOutcome } from '../resolve/docker-presence';
import { defaultDockerPlatform, dockerEngine, type DockerEngineInfo } from '../transports/docker-engine';
import { DEFAULT_PLATFORM } from '../asset/environment';
import { writeOciLayout, writeOciLayoutIndex } from '../transports/oci-layout';
import { selectPlatformImage, type ImageIndex, type PlatformImage } from '../oci/image-index';
import { platformKey, tryParsePlatform, type Platform } from '../oci/platform';
import type { AssetAnalysis } from '../asset/analyze-asset';
import {
  assetBuildParameters,
  assetImageIndexResult,
  assetImageResult,
  writeAssetImageResult,
  type AssetImageResult,
} from '../asset/asset-image-result';
import type { AssetBuildOptions } from '../asset/build-options';
import { assembleAsset, assetPlatforms, layerDigestsOf } from '../assembly/build-asset-image';
import { assetReferences } from '../asset/image-references';
import { passHandedAnalysis, prepareAsset } from '../assembly/prepare-asset';
import { takeAnalysisHandover } from '../content-index/analysis-handover';
import { recordHashStats } from '../hashing/hash-stats';
import { isCompressionAvailable } from '../oci/layer-codecs';
import { unchangedVersionTags } from '../asset/lock-pin';
import { DEFAULT_MUTABLE_TAGS } from '../transports/registry';
import { recordBuild } from '../gc/store-history';
import { withStoreLease } from '../gc/store-lease';
import { StreamedLoadPass } from './streamed-load';
import { parseAssetManifest, type AssetManifest } from '../manifest/manifest';

/** The asset-image option `ociLayout`; its default is `'lazy'` (the layers' bytes are not copied). */
export type OciLayoutMode = boolean | 'lazy';

export interface BuildAssetRequest {
  /** asset.json, workspace-relative. */
  manifestFile: string;
  /** Directory of the result (image.json), workspace-relative. */
  outputPath: string;
  /** What of the image goes into the store's OCI layout: `true` every blob, `'lazy'` configs, manifests and index entries (layers when a consumer needs them), `false` nothing. */
  ociLayout: OciLayoutMode;
  /** Load into Docker: `auto` when an engine answers, `true` fails without one. */
  load: boolean | 'auto';
}

/** What happened, step by step, for the caller to render. */
export type AssetBuildEvent =
  | { kind: 'lock-written'; file: string }
  | { kind: 'layout-written'; dir: string; written: number; skipped: number; layers: boolean }
  /** Not written yet: `missing` layers of absent files are not in the store (they come from the registry when something needs them). */
  | { kind: 'layout-deferred'; dir: string; missing: number }
  | { kind: 'docker-loaded'; engine: string; platform: string; outcome: EnsureInDockerOutcome; configDigest: string }
  | { kind: 'no-docker-engine' }
  | { kind: 'reassembling'; project: string; reason: string }
  /** The load that was to stream while the files were read did not (the reason); the image is loaded after assembly instead. */
  | { kind: 'streamed-load-abandoned'; project: string; reason: string }
  /** The content key's analysis was taken (`content-index/analysis-handover.ts`): the build did not scan, plan and look up again. */
  | { kind: 'analysis-handed-over'; project: string; files: number }
  /** The content changed since the lock's pin while these version tags stayed: asset-push would refuse to move them. */
  | { kind: 'version-tags-unchanged'; project: string; tags: string[]; from: string; to: string };

export type AssetBuildReporter = Reporter<AssetBuildEvent>;

export interface AssetBuildOutcome {
  analysis: AssetAnalysis;
  image: Image;
  result: AssetImageResult;
}

/** `load: true` and no Docker engine answers. */
export class DockerEngineUnavailableError extends Error {
  override readonly name = 'DockerEngineUnavailableError';
  constructor(
    readonly manifestFile: string,
    readonly dockerHost: string | undefined,
  ) {
    super(`${manifestFile}: load is true but no Docker engine answers (DOCKER_HOST=${dockerHost ?? 'default'})`);
  }
}

export async function buildAsset(
  options: AssetBuildOptions,
  request: BuildAssetRequest,
  reporter: AssetBuildReporter = SILENT_REPORTER,
): Promise<AssetBuildOutcome> {
  // The text the build is made from: the content index row saved after it names this very text.
  const manifestText = readFileSync(join(options.workspaceRoot, request.manifestFile), 'utf8');
  const layerDigests = layerDigestsOf(options);
  // A cold build that loads reads each file once, into Docker as it goes (classic image store, uncompressed layers).
  const parsed = parseAssetManifest(manifestText, request.manifestFile, posix.dirname(request.manifestFile));
  const streamed = new StreamedLoadPass({
    mtime: options.mtime ?? 0,
    layerDigests,
    allowed: request.load !== false && parsed.compression === 'none',
    references: parsed.tags.map((tag) => `${parsed.image}:${tag}`),
  });
  try {
    return await buildStreamed(options, request, reporter, manifestText, layerDigests, streamed, parsed);
  } finally {
    // Still streaming: the build failed or Docker held the image already. Abandoned, its archive names nothing.
    await streamed.abort(new Error('the build ended before the image was loaded'));
  }
}

async function buildStreamed(
  options: AssetBuildOptions,
  request: BuildAssetRequest,
  reporter: AssetBuildReporter,
  manifestText: string,
  layerDigests: ReturnType<typeof layerDigestsOf>,
  streamed: StreamedLoadPass,
  parsed: AssetManifest,
): Promise<AssetBuildOutcome> {
  const hashing = reporter.progress();
  let analysis: AssetAnalysis;
  let keyLine: string | undefined;
  try {
    // Under Nx the content key analyzed the asset just before: taken as it is when nothing changed since
    // (a codec this Node lacks is left to the usual analysis, which reports it).
    const handed = isCompressionAvailable(parsed.compression) ? await takeAnalysisHandover(options, parsed, manifestText) : undefined;
    const passed =
      handed !== undefined &&
      (!streamed.mayStream || (await passHandedAnalysis(options, handed.analysis, streamed.hashPass, hashing.onProgress)));
    if (handed && passed) {
      analysis = handed.analysis;
      keyLine = handed.line;
      recordHashStats('asset-image');
    } else {
      // A handed-over analysis that a file contradicted: its stream (if any) names nothing.
      if (handed) await streamed.abort(new Error('a file changed since the content key'));
      analysis = await prepareAsset(options, request.manifestFile, {
        text: manifestText,
        sources: 'fetch',
        requireCodec: true,
        statsTool: 'asset-image',
        onProgress: hashing.onProgress,
        hashPass: streamed.hashPass,
      });
    }
  } finally {
    hashing.finish();
  }
  const { manifest } = analysis;
  // What this workspace had seen when the analysis was made (its stat cache, just saved): part of the row saved after.
  const historyStamp = currentHistoryStamp(options.workspaceRoot, manifest.projectRoot);
  // Files first (in CI a lock that does not match fails before anything is assembled), then, once the image is delivered, the lock with the image pin.
  await reconcileAssetLock(options.workspaceRoot, manifest.projectRoot, analysis.lock, options.ci, { filesOnly: true });

  if (keyLine !== undefined) {
    const files = analysis.layers.reduce((sum, layer) => sum + layer.files.length, 0);
    reporter.event({ kind: 'analysis-handed-over', project: manifest.name, files });
  }
  if (streamed.abandoned) reporter.event({ kind: 'streamed-load-abandoned', project: manifest.name, reason: streamed.abandoned.message });
  // Recorded so that every later rebuild (cache hit, docker-build, asset-push) uses what this one did.
  const build = assetBuildParameters({
    ...options,
    platform: assetPlatforms(manifest, options)[0],
    compression: manifest.compression,
  });
  for (let round = 1; ; round++) {
    // asset.json's platforms: several give one index over a manifest per platform (the layers shared); one, that platform's image.
    const built = await assembleAsset(analysis, options, layerDigests);
    // The image whose layers (and, for one platform, manifest) the lock pins.
    const image = 'index' in built ? built.images[0]!.image : built;
    const digest = 'index' in built ? built.index.descriptor.digest : built.manifest.descriptor.digest;
    const refs = assetReferences(manifest.image, manifest.tags, digest);
    const result = 'index' in built ? assetImageIndexResult(analysis, built, refs, build) : assetImageResult(analysis, image, refs, build);
    const staleBefore = layerDigests.staleEntries;
    let delivered = false;
    try {
      await deliverImage(
        options,
        request,
        built,
        result,
        reporter,
        image.layers.filter((_, i) => analysis.layers[i]?.pinned).map((layer) => layer.descriptor),
        streamed,
      );
      delivered = true;
    } catch (error) {
      // A remembered layer digest the streamed bytes contradicted: the entry is corrected by now, so the
      // image is assembled again with the right digest (each round fixes at least one entry).
      if (layerDigests.staleEntries === staleBefore || round > 2 * image.layers.length) throw error;
      reporter.event({ kind: 'reassembling', project: manifest.name, reason: layerDigests.stale.at(-1)!.message });
    }
    if (delivered) {
      // The pin only once delivery has streamed the layers: a remembered layer digest that turned out wrong
      // (the round above) must not end up in the committed lock.
      const lock = lockWithBuilt(analysis, built, options.mtime);
      const committed = analysis.committedLock?.image;
      const kept = unchangedVersionTags(
        committed,
        { manifest: lock.image!.manifest, tags: manifest.tags },
        options.mutableTags ?? DEFAULT_MUTABLE_TAGS,
      );
      if (kept.length > 0) {
        reporter.event({
          kind: 'version-tags-unchanged',
          project: manifest.name,
          tags: kept,
          from: committed!.manifest,
          to: lock.image!.manifest,
        });
      }
      // The lock as the analysis read it (nothing has written it since): not read again.
      const existing = analysis.committedLock ?? null;
      if ((await reconcileAssetLock(options.workspaceRoot, manifest.projectRoot, lock, options.ci, { existing })) === 'written') {
        reporter.event({ kind: 'lock-written', file: posix.join(manifest.projectRoot, 'asset.lock.json') });
      }
      // The next no-op's key from the index, with the lock just written (it pins what was hashed: the key is unchanged).
      await saveContentIndexRow(
        options.workspaceRoot,
        analysis,
        manifestText,
        currentLockDigest(options.workspaceRoot, manifest.projectRoot),
        historyStamp,
        undefined,
        keyLine,
      );
      await writeAssetImageResult(join(options.workspaceRoot, request.outputPath), result);
      return { analysis, image, result };
    }
  }
}

/**
 * What the asset-image target runs: `buildAsset` holding a lease on the store (gc waits for it, and it for a
 * running gc), then the build recorded in the store's history (what gc keeps of this asset's earlier builds).
 */
export async function buildAssetInStore(
  options: AssetBuildOptions,
  request: BuildAssetRequest,
  reporter: AssetBuildReporter = SILENT_REPORTER,
): Promise<AssetBuildOutcome> {
  return withStoreLease(options.store.root, async () => {
    const built = await buildAsset(options, request, reporter);
    // After the result: the history names what the store keeps of this asset's earlier builds.
    await recordBuild(options.store.root, built.result.project, built.result.manifestDigest);
    return built;
  });
}

/** Writes the image into the layout store and loads it into Docker, as the request says: the steps that stream its layers. */
async function deliverImage(
  options: AssetBuildOptions,
  request: BuildAssetRequest,
  built: Image | ImageIndex,
  result: AssetImageResult,
  reporter: AssetBuildReporter,
  pinned: readonly Descriptor[],
  streamed: StreamedLoadPass,
): Promise<void> {
  const dir = options.store.ociLayout;
  // Layers of absent files come from the registry only when something needs their bytes: a layout
  // write alone does not, so it waits until they are in the store (after a docker load, an asset-pull).
  const notHere = async () => (await Promise.all(pinned.map(async (d) => ((await hasBlob(dir, d)) ? undefined : d)))).filter(Boolean);
  const writeLayout = async (layers = true) => {
    const progress = reporter.progress();
    try {
      const layoutOptions = { refNames: result.references, onProgress: progress.onProgress, layers };
      const written =
        'index' in built ? await writeOciLayoutIndex(dir, built, layoutOptions) : await writeOciLayout(dir, built, layoutOptions);
      reporter.event({ kind: 'layout-written', dir, written: written.written.length, skipped: written.skipped.length, layers });
    } finally {
      progress.finish();
    }
  };
  let layoutPending = false;
  // Lazy: the small blobs only; layers are not copied (they come from the sources, else the registry, when needed).
  if (request.ociLayout === 'lazy') await writeLayout(false);
  else if (request.ociLayout) {
    const missing = await notHere();
    if (missing.length === 0) await writeLayout();
    else {
      layoutPending = true;
      reporter.event({ kind: 'layout-deferred', dir, missing: missing.length });
    }
  }
  if (request.load === false) return;
  const engine = await dockerEngine();
  if (!engine) {
    if (request.load === true) throw new DockerEngineUnavailableError(request.manifestFile, process.env['DOCKER_HOST']);
    reporter.event({ kind: 'no-docker-engine' });
    return;
  }
  // Docker gets one variant under the asset's tags: the target's `platform`, else the engine's own.
  const variant = 'index' in built ? dockerVariant(request.manifestFile, built, options.dockerPlatform, engine) : undefined;
  const image = variant ? variant.image : (built as Image);
  const held = variant
    ? { ...result, manifestDigest: image.manifest.descriptor.digest, configDigest: image.config.descriptor.digest }
    : result;
  const progress = reporter.progress();
  try {
    // Docker may hold this very build already (same config digest): then only tags move, no bytes.
    const outcome = await ensureAssetImageInDocker(options.workspaceRoot, request.manifestFile, held, result.references, {
      onProgress: progress.onProgress,
      resolveImage: async () => ({ image, origin: 'sources' }),
      // The layers already went in while the files were read: the config and manifest.json end that load.
      ...(streamed.streaming ? { loadImage: (loaded: Image, refs: readonly string[]) => streamed.finish(loaded, refs) } : {}),
    });
    const platform = variant ? platformKey(variant.platform) : (result.build?.platform ?? DEFAULT_PLATFORM);
    reporter.event({ kind: 'docker-loaded', engine: engine.version, platform, outcome, configDigest: held.configDigest });
  } finally {
    progress.finish();
  }
  if (layoutPending && (await notHere()).length === 0) await writeLayout();
}

/**
 * The variant of a multi-platform build that Docker gets: the target's `platform` (an error when the
 * build lacks it), else the engine's (DOCKER_DEFAULT_PLATFORM or the daemon's), else the first.
 */
function dockerVariant(manifestFile: string, built: ImageIndex, wanted: Platform | undefined, engine: DockerEngineInfo): PlatformImage {
  if (wanted) {
    const chosen = selectPlatformImage(built, wanted);
    if (!chosen) {
      throw new Error(
        `${manifestFile}: the asset-image option platform is ${platformKey(wanted)}, but the asset is built for ${built.images.map((i) => platformKey(i.platform)).join(', ')}: add it to "platforms" (asset.json or the plugin option)`,
      );
    }
    return chosen;
  }
  const engineDefault = tryParsePlatform(defaultDockerPlatform(engine));
  return (engineDefault && selectPlatformImage(built, engineDefault)) ?? built.images[0]!;
}
