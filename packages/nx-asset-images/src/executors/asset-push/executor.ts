/**
 * `asset-push`: push the image `asset-image` built (its small result,
 * `dist/asset-images/<project>/image.json`, built in this run or restored from
 * Nx's cache) to the registry its asset.json names. The bytes come from the
 * layout store or a verified rebuild from the sources (never from a registry:
 * pushing what we would pull from the same place makes no sense).
 */
import { join, posix } from 'node:path';
import { optionsAsWritten, taskOverrideWords } from '../../nx/option-text';
import { logger, type ExecutorContext } from '../../nx/devkit';
import { assetStorePaths } from '../../asset/asset-store';
import { withStoreLease } from '../../gc/store-lease';
import { readAssetImageResult, type AssetImageResult } from '../../asset/asset-image-result';
import { ASSET_MANIFEST_FILE } from '../../manifest/manifest';
import { resolveAssetIndex } from '../../resolve/resolve-asset-index';
import { ASSET_LOCK_FILE, readAssetLock } from '../../lock/lock';
import type { Digest } from '../../oci/image';
import { parseImageReference } from '../../oci/image-reference';
import { resolveAssetImage, unrecordedBuildDefaults } from '../../resolve/resolve-asset-image';
import { findAssetImagesInWorkspace } from '../../nx/asset-images-in-workspace';
import { assetImageTargetOptions } from '../../nx/asset-image-target';
import { assetImageOutputPath } from '../../workspace/workspace-facts';
import { ImmutableTagError, pushImage, resolveDockerCredentials, type RegistryCredentials } from '../../transports/registry';
import { createProgressRenderer } from '../progress-renderer';
import {
  blobLabels,
  nextVersion,
  defaultMountSources,
  explicitMountSources,
  normalizePushOptions,
  pushReferences,
  pushSummaryLines,
  resultRepository,
  scrubSecrets,
  type MountCandidate,
} from './push-plan';
import type { AssetPushExecutorOptions } from './schema';

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

export default async function assetPushExecutor(
  options: AssetPushExecutorOptions,
  context: ExecutorContext,
): Promise<{ success: boolean }> {
  const secrets: (string | undefined)[] = [];
  try {
    // A push streams blobs from the layout store: gc waits for it.
    const asWritten = optionsAsWritten(options, ['tags', 'mutableTags'], taskOverrideWords(context), { arrays: ['tags', 'mutableTags'] });
    await withStoreLease(assetStorePaths(context.root).root, () => pushAssetImageTask(asWritten, context, secrets));
    return { success: true };
  } catch (error) {
    logger.error(scrubSecrets(error instanceof Error ? error.message : String(error), secrets));
    if (process.env['NX_VERBOSE_LOGGING'] === 'true' && error instanceof Error && error.stack)
      logger.error(scrubSecrets(error.stack, secrets));
    return { success: false };
  }
}

/** What one push is about, from the options and the project configurations. */
interface PushRequest {
  root: string;
  project: string;
  projects: NonNullable<ExecutorContext['projectsConfigurations']>['projects'];
  manifestFile: string;
  resultDir: string;
}

function pushRequestOf(options: AssetPushExecutorOptions, context: ExecutorContext): PushRequest {
  const project = context.projectName ?? '(unknown project)';
  const projects = context.projectsConfigurations?.projects ?? {};
  const projectRoot = context.projectName ? projects[context.projectName]?.root : undefined;
  const manifestFile = options.manifest ?? (projectRoot !== undefined ? posix.join(projectRoot, ASSET_MANIFEST_FILE) : undefined);
  if (!manifestFile) throw new Error(`asset-push: cannot tell the asset.json of ${project}; set the "manifest" option`);
  const resultDir = options.resultPath ?? assetImageOutputPath(projects[project]?.targets, project);
  return { root: context.root, project, projects, manifestFile, resultDir };
}

/** `secrets` collects what must never be printed (filled once credentials are read). */
export async function pushAssetImageTask(
  options: AssetPushExecutorOptions,
  context: ExecutorContext,
  secrets: (string | undefined)[] = [],
): Promise<void> {
  const started = Date.now();
  const { root, project, projects, manifestFile, resultDir } = pushRequestOf(options, context);
  const normalized = normalizePushOptions(options);

  const result = await readAssetImageResult(join(root, resultDir));
  if (!result)
    throw new Error(`${project}: ${resultDir}/image.json is missing: run "nx run ${project}:asset-image" first (asset-push depends on it)`);
  const refs = pushReferences(result, normalized.tags);
  const target = resultRepository(result);
  const registry = target.registry;

  const mountFrom = normalized.mountFrom
    ? explicitMountSources(target, normalized.mountFrom)
    : defaultMountSources(
        target,
        result.layers.map((l) => l.digest),
        [...(await lockedRepository(root, manifestFile)), ...(await mountCandidates(projects, root, project))],
      );

  // A rebuild from the sources uses the parameters the result records (today's settings only for an image.json without them).
  // A multi-platform build goes up as its index with every platform (layout store, else a verified rebuild).
  const resolved = result.platforms ? await resolveAssetIndex(root, manifestFile, result, { pull: false }) : undefined;
  const multi = resolved?.index;
  const { image, origin } = resolved
    ? { image: resolved.index.images[0]!.image, origin: resolved.origin }
    : await resolveAssetImage(root, manifestFile, result, {
        pull: false,
        ...unrecordedBuildDefaults(result, assetImageTargetOptions(projects[project]?.targets)),
      });
  if (origin === 'sources') logger.info(`${project}: streaming the layers from the asset's files (not in the layout store)`);

  // Read credentials once, here, so that whatever they hold can be scrubbed from any message.
  let credentials: RegistryCredentials | undefined;
  try {
    credentials = await resolveDockerCredentials(registry);
  } catch (error) {
    throw new AssetPushError(
      project,
      registry,
      `${project}: cannot read credentials for ${registry} from Docker's config: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  if (credentials) {
    secrets.push(credentials.password, credentials.identityToken, credentials.registryToken);
    if (credentials.username && credentials.password)
      secrets.push(Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64'));
  }

  const labels = blobLabels(result);
  const moving = new Set<string>();
  const progress = createProgressRenderer();
  const sizes = new Map(image.layers.map((l) => [l.descriptor.digest as string, l.descriptor.size]));
  sizes.set(image.config.descriptor.digest, image.config.descriptor.size);
  logger.info(
    `Pushing ${result.manifestDigest} to ${registry}/${target.repository} (${refs.map((r) => r.tag).join(', ')})${mountFrom.length ? `, mounting from ${mountFrom.join(', ')}` : ''}`,
  );
  let push;
  try {
    push = await pushImage(multi ?? image, refs, {
      ...(credentials ? { credentials } : {}),
      insecureRegistries: normalized.insecureRegistries,
      concurrency: normalized.concurrency,
      ...(normalized.chunkSize !== undefined ? { chunkSize: normalized.chunkSize } : {}),
      mountFrom,
      tagPolicy: { mutable: normalized.mutableTags, force: normalized.force },
      onProgress: (event) => {
        // A skipped or mounted blob is reported once, complete: no bytes moved, so no rate line for it.
        if (!moving.has(event.label) && event.total !== undefined && event.bytes === event.total) return;
        moving.add(event.label);
        progress.onProgress({ ...event, label: labels.get(event.label) ?? event.label });
      },
      onRetry: ({ digest, attempt, error }) =>
        logger.warn(
          scrubSecrets(
            `${labels.get(digest) ?? digest}: attempt ${attempt} failed, retrying: ${error instanceof Error ? error.message : String(error)}`,
            secrets,
          ),
        ),
    });
  } catch (error) {
    if (error instanceof ImmutableTagError) {
      throw new AssetPushError(
        project,
        registry,
        `${project}: ${error.message}. Add a new tag to ${manifestFile} "tags" (a new version, e.g. "${nextVersion(error.conflicts[0]!.tag)}") and build again; ` +
          `or list the tag in the asset-push option "mutableTags", or push with --force to move it anyway.`,
        { cause: error },
      );
    }
    const message = error instanceof Error ? error.message : String(error);
    const named = message.includes(registry) ? message : `${registry}: ${message}`;
    throw new AssetPushError(project, registry, `${project}: push to ${registry}/${target.repository} failed: ${named}`, { cause: error });
  } finally {
    progress.finish();
  }
  for (const move of push.moved) {
    const why = normalized.mutableTags.includes(move.tag) ? 'a mutable tag' : 'forced (--force): a version tag now names other content';
    logger.warn(
      `${project}: moved ${target.registry}/${target.repository}:${move.tag} from ${move.from} to ${push.manifestDigest} (${why})`,
    );
  }
  const uploadedBytes = push.uploaded.reduce((sum, digest) => sum + (sizes.get(digest) ?? 0), 0);
  logger.info(pushSummaryLines(push, refs, uploadedBytes, (Date.now() - started) / 1000).join('\n'));
}

/** The other assets' repositories and, when their results are on disk, their layers. */
/**
 * The repository the committed lock says the layers come from (asset.json's
 * image renamed where the weights are absent): mounted from first, since it
 * holds them.
 */
async function lockedRepository(root: string, manifestFile: string): Promise<MountCandidate[]> {
  const lock = await readAssetLock(join(root, posix.dirname(manifestFile), ASSET_LOCK_FILE)).catch(() => undefined);
  const recorded = lock?.image?.repository;
  if (recorded === undefined) return [];
  return [{ reference: parseImageReference(recorded), layers: lock!.image!.layers.map((l) => l.digest as Digest) }];
}

async function mountCandidates(
  projects: NonNullable<ExecutorContext['projectsConfigurations']>['projects'],
  root: string,
  self: string,
): Promise<MountCandidate[]> {
  const assets = findAssetImagesInWorkspace(projects, root, () => undefined);
  const out: MountCandidate[] = [];
  for (const asset of assets.values()) {
    if (asset.projectName === self) continue;
    const other: AssetImageResult | undefined = await readAssetImageResult(
      join(root, assetImageOutputPath(projects[asset.projectName]?.targets, asset.projectName)),
    );
    out.push({ reference: asset.reference, ...(other ? { layers: other.layers.map((l) => l.digest) } : {}) });
  }
  return out;
}
