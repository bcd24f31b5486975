/**
 * `asset-image`: build an asset's image, then prune the store. Parses options,
 * calls the use case (asset-image/asset-build.ts), renders what it reports.
 */
import { posix } from 'node:path';
import { logger, type ExecutorContext } from '../../nx/devkit';
import { buildAssetInStore, type AssetBuildEvent } from '../../asset-image/asset-build';
import { assetBuildOptions } from '../../asset/build-options';
import { assetPushMutableTags } from '../../nx/asset-image-target';
import { createProgressRenderer, formatBytes } from '../progress-renderer';
import { formatGcReport } from '../../gc/gc-report';
import { pruneAfterBuild } from '../../gc/prune-after-build';
import type { AssetImageExecutorOptions } from './schema';

export default async function assetImageExecutor(
  options: AssetImageExecutorOptions,
  context: ExecutorContext,
): Promise<{ success: boolean }> {
  let built: { project: string };
  try {
    const targets = context.projectName ? context.projectsConfigurations?.projects[context.projectName]?.targets : undefined;
    const mutableTags = assetPushMutableTags(targets);
    built = await buildAssetImageTask(options, context.root, mutableTags ? { mutableTags } : {});
  } catch (error) {
    logger.error(error instanceof Error ? error.message : String(error));
    if (process.env['NX_VERBOSE_LOGGING'] === 'true' && error instanceof Error && error.stack) logger.error(error.stack);
    return { success: false };
  }
  await prune(options, context.root, built.project);
  return { success: true };
}

/**
 * After the build let its lease go: a prune that fails is a warning (the image is built). `project`: the asset's
 * name as its build history records it.
 */
async function prune(options: AssetImageExecutorOptions, workspaceRoot: string, project: string): Promise<void> {
  const verbose = process.env['NX_VERBOSE_LOGGING'] === 'true';
  try {
    const outcome = await pruneAfterBuild(workspaceRoot, options, project);
    if (!outcome) return;
    if (!outcome.ran) {
      if (verbose) logger.info(`nx-asset-images gc: skipped, the store is in use (${outcome.leases.join(', ')})`);
      return;
    }
    const freed = Object.values(outcome.report.freed).some((f) => f.count > 0);
    if (freed || verbose) logger.info(formatGcReport(outcome.report).join('\n'));
  } catch (error) {
    logger.warn(`nx-asset-images gc: the store was not pruned: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** What `nx run <asset>:asset-image` does (also called by tools/bench). */
export async function buildAssetImageTask(
  options: AssetImageExecutorOptions,
  workspaceRoot: string,
  tags: { mutableTags?: readonly string[] } = {},
): Promise<{ project: string }> {
  const started = Date.now();
  const buildOptions = { ...assetBuildOptions(workspaceRoot, options), ...tags };
  const { image, result } = await buildAssetInStore(
    buildOptions,
    {
      manifestFile: options.manifest,
      outputPath: options.outputPath,
      ociLayout: options.ociLayout ?? 'lazy',
      load: options.load ?? 'auto',
    },
    { progress: createProgressRenderer, event: (event) => renderEvent(event, workspaceRoot) },
  );
  logger.info(
    [
      `${result.project}: ${result.manifestDigest} (${image.layers.length} layer(s), ${formatBytes(result.size)}) in ${((Date.now() - started) / 1000).toFixed(2)} s`,
      ...result.references.map((reference) => `  ${reference}`),
    ].join('\n'),
  );
  return { project: result.project };
}

function renderEvent(event: AssetBuildEvent, workspaceRoot: string): void {
  switch (event.kind) {
    case 'lock-written':
      return logger.info(`Updated ${event.file}: commit it so \`nx affected\` sees the change.`);
    case 'layout-written':
      return logger.info(
        `OCI layout ${posix.relative(workspaceRoot, event.dir) || event.dir}: ${event.written} blob(s) written, ${event.skipped} already there${event.layers ? '' : ' (configs and manifests; layers are written when a BuildKit context needs them: ociLayout "lazy")'}`,
      );
    case 'layout-deferred':
      return logger.info(
        `OCI layout ${posix.relative(workspaceRoot, event.dir) || event.dir}: not written, ${event.missing} layer(s) of absent files are not here (fetched from the registry when needed)`,
      );
    case 'no-docker-engine':
      return logger.info('No Docker engine answers: the image was not loaded (set load: false to skip this check).');
    case 'version-tags-unchanged':
      return logger.warn(
        `${event.project}: the content changed since asset.lock.json (${event.from} -> ${event.to}) but asset.json keeps the tag(s) ${event.tags.join(', ')}. ` +
          `A version tag names one content for good: asset-push will refuse to move ${event.tags.length === 1 ? 'it' : 'them'}. Add a new tag to asset.json "tags".`,
      );
    case 'streamed-load-abandoned':
      return logger.warn(`${event.project}: the load could not stream while the files were read (${event.reason}); loading after assembly`);
    case 'analysis-handed-over':
      return logger.info(`${event.project}: ${event.files} file(s) as the content key analyzed them just before (nothing changed since)`);
    case 'reassembling':
      return logger.warn(`${event.project}: ${event.reason}; assembling the image again`);
    case 'docker-loaded': {
      const { action } = event.outcome;
      const what =
        action === 'none'
          ? 'already held it'
          : action === 'tagged'
            ? 'held the image; tagged it'
            : action.layersSent === action.layers
              ? 'loaded it'
              : `loaded it (sent ${action.layersSent} of ${action.layers} layers; it held the others)`;
      return logger.info(`Docker ${event.engine}: ${what} (${event.platform}, ${event.configDigest})`);
    }
  }
}
