/**
 * The asset-push use case: push the image `asset-image` built (its small
 * result, `dist/asset-images/<project>/image.json`, built in this run or
 * restored from Nx's cache) to the registry its asset.json names. The bytes
 * come from the layout store or a verified rebuild from the sources (never
 * from a registry: pushing what we would pull from the same place makes no
 * sense). The registry's credentials are read once, here: the registry client
 * gets that result, and nothing reported or thrown holds a secret of it.
 * Reports through `AssetPushReporter`; rendering is the caller's.
 */
import { join, posix } from 'node:path';
import { readAssetImageResult } from '../asset/asset-image-result';
import type { AssetProjectMap } from '../asset/asset-project';
import { assetStorePaths } from '../asset/asset-store';
import { withStoreLease } from '../gc/store-lease';
import { ASSET_MANIFEST_FILE } from '../manifest/manifest';
import type { Digest } from '../oci/image';
import type { ImageReference } from '../oci/image-reference';
import { resolveAssetImage, unrecordedBuildDefaults } from '../resolve/resolve-asset-image';
import { resolveAssetIndex } from '../resolve/resolve-asset-index';
import {
  credentialSecrets,
  ImmutableTagError,
  pushImage,
  resolveRegistryCredentials,
  type PushResult,
  type ResolvedCredentials,
} from '../transports/registry';
import { SILENT_REPORTER, withProgress, type Reporter } from '../util/progress';
import type { AssetPushOptions } from './asset-push-options';
import { mountSources } from './mount-sources';
import { blobLabels, nextVersion, normalizePushOptions, pushReferences, resultRepository, scrubSecrets } from './push-plan';

export interface AssetPushRequest {
  workspaceRoot: string;
  /** The asset project to push. */
  project: string;
  /** Its folder: asset.json is there unless the `manifest` option says otherwise. */
  projectRoot: string | undefined;
  /** Its asset-image result's directory (image.json), unless the `resultPath` option says otherwise. */
  resultDir: string;
  /** Its asset-image target's options: what a rebuild from the sources falls back on for a result that records no build parameters. */
  imageTargetOptions: Record<string, unknown>;
  /** The workspace's asset projects: the default repositories to mount shared layers from. */
  assets: AssetProjectMap;
  options: AssetPushOptions;
}

/** What happened, step by step, for the caller to render. Messages hold no secret of the credentials. */
export type AssetPushEvent =
  /** The layout store lacks the layers: they are read from the asset's files. */
  | { kind: 'streaming-from-sources'; project: string }
  | { kind: 'pushing'; manifestDigest: Digest; repository: string; tags: string[]; mountFrom: string[] }
  /** A blob upload attempt failed and is tried again; `message` is the failure's, scrubbed. */
  | { kind: 'retrying'; blob: string; attempt: number; message: string }
  /** A tag now names this image and named other content before: a mutable tag, or a version tag moved with `force`. */
  | { kind: 'tag-moved'; project: string; reference: string; from: Digest; to: Digest; mutable: boolean };

export type AssetPushReporter = Reporter<AssetPushEvent>;

export interface AssetPushOutcome {
  push: PushResult;
  /** The references pushed. */
  references: ImageReference[];
  /** Bytes of the blobs uploaded (neither there already nor mounted). */
  uploadedBytes: number;
}

export class AssetPushError extends Error {
  override readonly name = 'AssetPushError';
  constructor(
    readonly project: string,
    readonly registry: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export async function pushAsset(request: AssetPushRequest, reporter: AssetPushReporter = SILENT_REPORTER): Promise<AssetPushOutcome> {
  // A push streams blobs from the layout store: gc waits for it.
  return withStoreLease(assetStorePaths(request.workspaceRoot).root, () => pushLeased(request, reporter));
}

async function pushLeased(request: AssetPushRequest, reporter: AssetPushReporter): Promise<AssetPushOutcome> {
  const { workspaceRoot: root, project, options } = request;
  const manifestFile =
    options.manifest ?? (request.projectRoot !== undefined ? posix.join(request.projectRoot, ASSET_MANIFEST_FILE) : undefined);
  if (!manifestFile) throw new Error(`asset-push: cannot tell the asset.json of ${project}; set the "manifest" option`);
  const resultDir = options.resultPath ?? request.resultDir;
  const normalized = normalizePushOptions(options);

  const result = await readAssetImageResult(join(root, resultDir));
  if (!result)
    throw new Error(`${project}: ${resultDir}/image.json is missing: run "nx run ${project}:asset-image" first (asset-push depends on it)`);
  const refs = pushReferences(result, normalized.tags);
  const target = resultRepository(result);
  const registry = target.registry;
  const mountFrom = await mountSources(root, project, manifestFile, result, normalized.mountFrom, request.assets);

  // A rebuild from the sources uses the parameters the result records (today's settings only for an image.json without them).
  // A multi-platform build goes up as its index with every platform (layout store, else a verified rebuild).
  const resolved = result.platforms ? await resolveAssetIndex(root, manifestFile, result, { pull: false }) : undefined;
  const multi = resolved?.index;
  const { image, origin } = resolved
    ? { image: resolved.index.images[0]!.image, origin: resolved.origin }
    : await resolveAssetImage(root, manifestFile, result, {
        pull: false,
        ...unrecordedBuildDefaults(result, request.imageTargetOptions),
      });
  if (origin === 'sources') reporter.event({ kind: 'streaming-from-sources', project });

  // Read once: the registry client gets this result, and whatever it holds is scrubbed from every message.
  let credentials: ResolvedCredentials;
  try {
    credentials = await resolveRegistryCredentials(registry);
  } catch (error) {
    throw new AssetPushError(
      project,
      registry,
      `${project}: cannot read credentials for ${registry} from Docker's config: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  const secrets = credentialSecrets(credentials.credentials);
  const scrub = (text: string): string => scrubSecrets(text, secrets);

  const labels = blobLabels(result);
  const moving = new Set<string>();
  const sizes = new Map(image.layers.map((l) => [l.descriptor.digest as string, l.descriptor.size]));
  sizes.set(image.config.descriptor.digest, image.config.descriptor.size);
  reporter.event({
    kind: 'pushing',
    manifestDigest: result.manifestDigest,
    repository: `${registry}/${target.repository}`,
    tags: refs.map((r) => r.tag!),
    mountFrom,
  });
  const push = await withProgress(reporter, (onProgress) =>
    pushImage(multi ?? image, refs, {
      credentials,
      insecureRegistries: normalized.insecureRegistries,
      concurrency: normalized.concurrency,
      ...(normalized.chunkSize !== undefined ? { chunkSize: normalized.chunkSize } : {}),
      mountFrom,
      tagPolicy: { mutable: normalized.mutableTags, force: normalized.force },
      onProgress: (event) => {
        // A skipped or mounted blob is reported once, complete: no bytes moved, so no rate line for it.
        if (!moving.has(event.label) && event.total !== undefined && event.bytes === event.total) return;
        moving.add(event.label);
        onProgress({ ...event, label: labels.get(event.label) ?? event.label });
      },
      onRetry: ({ digest, attempt, error }) =>
        reporter.event({
          kind: 'retrying',
          blob: scrub(labels.get(digest) ?? digest),
          attempt,
          message: scrub(error instanceof Error ? error.message : String(error)),
        }),
    }),
  ).catch((error: unknown) => {
    if (error instanceof ImmutableTagError) {
      throw new AssetPushError(
        project,
        registry,
        scrub(
          `${project}: ${error.message}. Add a new tag to ${manifestFile} "tags" (a new version, e.g. "${nextVersion(error.conflicts[0]!.tag)}") and build again; ` +
            `or list the tag in the asset-push option "mutableTags", or push with --force to move it anyway.`,
        ),
        { cause: error },
      );
    }
    const message = error instanceof Error ? error.message : String(error);
    const named = message.includes(registry) ? message : `${registry}: ${message}`;
    throw new AssetPushError(project, registry, scrub(`${project}: push to ${registry}/${target.repository} failed: ${named}`), {
      cause: error,
    });
  });
  for (const move of push.moved) {
    reporter.event({
      kind: 'tag-moved',
      project,
      reference: `${target.registry}/${target.repository}:${move.tag}`,
      from: move.from,
      to: push.manifestDigest,
      mutable: normalized.mutableTags.includes(move.tag),
    });
  }
  const uploadedBytes = push.uploaded.reduce((sum, digest) => sum + (sizes.get(digest) ?? 0), 0);
  return { push, references: refs, uploadedBytes };
}
