/**
 * The build use case, once for every entry point: parse asset.json, hash its
 * content through the stat cache (`prepareAsset`: what the content key and the
 * lock generator need), then bring the lock in line, assemble the image, write
 * it into the layout store, load it into Docker and record the small result
 * (`buildAsset`: what the asset-image executor runs). Reports through
 * `AssetBuildReporter`; rendering is the caller's.
 */
import { join, posix } from 'node:path';
import type { Image } from '../oci/image';
import type { OnProgress } from '../util/progress';
import { reconcileAssetLock } from '../lock/lock-check';
import { ensureAssetImageInDocker, type EnsureInDockerOutcome } from '../resolve/docker-presence';
import { dockerEngineVersion } from '../transports/docker-engine';
import { writeOciLayout } from '../transports/oci-layout';
import type { AssetAnalysis } from './analyze-asset';
import { assetBuildParameters, assetImageResult, writeAssetImageResult, type AssetImageResult } from './asset-image-result';
import type { AssetBuildOptions } from './build-options';
import { assembleAssetImage, layerDigestsOf } from './build-asset-image';
import { assetReferences } from './image-references';
import { prepareAsset } from './prepare-asset';

export interface BuildAssetRequest {
  /** asset.json, workspace-relative. */
  manifestFile: string;
  /** Directory of the result (image.json), workspace-relative. */
  outputPath: string;
  /** Write the image into the store's OCI layout. */
  ociLayout: boolean;
  /** Load into Docker: `auto` when an engine answers, `true` fails without one. */
  load: boolean | 'auto';
}

/** What happened, step by step, for the caller to render. */
export type AssetBuildEvent =
  | { kind: 'lock-written'; file: string }
  | { kind: 'layout-written'; dir: string; written: number; skipped: number }
  | { kind: 'docker-loaded'; engine: string; outcome: EnsureInDockerOutcome; configDigest: string }
  | { kind: 'no-docker-engine' }
  | { kind: 'reassembling'; project: string; reason: string };

export interface AssetBuildReporter {
  /** A step that streams bytes begins (hashing, layout write, docker load); `finish` is called when it ends. */
  progress(): { onProgress: OnProgress; finish(): void };
  event(event: AssetBuildEvent): void;
}

/** Reports nothing: for callers that only want the outcome (scripts, tests). */
export const SILENT_REPORTER: AssetBuildReporter = { progress: () => ({ onProgress: () => {}, finish: () => {} }), event: () => {} };

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
  const hashing = reporter.progress();
  let analysis: AssetAnalysis;
  try {
    analysis = await prepareAsset(options, request.manifestFile, {
      sources: 'fetch',
      requireCodec: true,
      statsTool: 'asset-image',
      onProgress: hashing.onProgress,
    });
  } finally {
    hashing.finish();
  }
  const { manifest } = analysis;
  if ((await reconcileAssetLock(options.workspaceRoot, manifest.projectRoot, analysis.lock, options.ci)) === 'written') {
    reporter.event({ kind: 'lock-written', file: posix.join(manifest.projectRoot, 'asset.lock.json') });
  }

  const layerDigests = layerDigestsOf(options);
  // Recorded so that every later rebuild (cache hit, docker-build, asset-push) uses what this one did.
  const build = assetBuildParameters({ ...options, compression: manifest.compression });
  for (let round = 1; ; round++) {
    const image = await assembleAssetImage(analysis, options, layerDigests);
    const refs = assetReferences(manifest.image, manifest.tags, image.manifest.descriptor.digest);
    const result = assetImageResult(analysis, image, refs, build);
    const staleBefore = layerDigests.staleEntries;
    let delivered = false;
    try {
      await deliverImage(options, request, image, result, reporter);
      delivered = true;
    } catch (error) {
      // A remembered layer digest the streamed bytes contradicted: the entry is corrected by now, so the
      // image is assembled again with the right digest (each round fixes at least one entry).
      if (layerDigests.staleEntries === staleBefore || round > 2 * image.layers.length) throw error;
      reporter.event({ kind: 'reassembling', project: manifest.name, reason: layerDigests.stale.at(-1)!.message });
    }
    if (delivered) {
      await writeAssetImageResult(join(options.workspaceRoot, request.outputPath), result);
      return { analysis, image, result };
    }
  }
}

/** Writes the image into the layout store and loads it into Docker, as the request says: the steps that stream its layers. */
async function deliverImage(
  options: AssetBuildOptions,
  request: BuildAssetRequest,
  image: Image,
  result: AssetImageResult,
  reporter: AssetBuildReporter,
): Promise<void> {
  if (request.ociLayout) {
    const dir = options.store.ociLayout;
    const progress = reporter.progress();
    try {
      const written = await writeOciLayout(dir, image, { refNames: result.references, onProgress: progress.onProgress });
      reporter.event({ kind: 'layout-written', dir, written: written.written.length, skipped: written.skipped.length });
    } finally {
      progress.finish();
    }
  }
  if (request.load === false) return;
  const engine = await dockerEngineVersion();
  if (!engine) {
    if (request.load === true) throw new DockerEngineUnavailableError(request.manifestFile, process.env['DOCKER_HOST']);
    reporter.event({ kind: 'no-docker-engine' });
    return;
  }
  const progress = reporter.progress();
  try {
    // Docker may hold this very build already (same config digest): then only tags move, no bytes.
    const outcome = await ensureAssetImageInDocker(options.workspaceRoot, request.manifestFile, result, result.references, {
      onProgress: progress.onProgress,
      resolveImage: async () => ({ image, origin: 'sources' }),
    });
    reporter.event({ kind: 'docker-loaded', engine, outcome, configDigest: result.configDigest });
  } finally {
    progress.finish();
  }
}
