/**
 * `asset-pull`: the absent files of an asset (pinned by its lock, not in this
 * clone) from the registry into the folder. Parses options, calls the core
 * (pull/pull-files.ts), renders the outcome.
 */
import { posix } from 'node:path';
import { logger, type ExecutorContext } from '../../nx/devkit';
import { withStoreLease } from '../../gc/store-lease';
import { assetBuildOptions } from '../../asset/build-options';
import { ASSET_MANIFEST_FILE } from '../../manifest/manifest';
import { assetImageTargetOptions } from '../../nx/asset-image-target';
import { pullAssetFiles } from '../../asset-pull/pull-files';
import { createProgressRenderer, formatBytes } from '../progress-renderer';
import type { AssetPullExecutorOptions } from './schema';

export default async function assetPullExecutor(
  options: AssetPullExecutorOptions,
  context: ExecutorContext,
): Promise<{ success: boolean }> {
  const project = context.projectName ? context.projectsConfigurations?.projects[context.projectName] : undefined;
  const manifestFile = options.manifest ?? (project ? posix.join(project.root, ASSET_MANIFEST_FILE) : undefined);
  if (!manifestFile) {
    logger.error('asset-pull: no "manifest" option and no project to take <projectRoot>/asset.json from');
    return { success: false };
  }
  const progress = createProgressRenderer();
  try {
    // The asset-image target's options (largeFileThreshold, platform): the layer plan the pulled files are recorded under.
    const buildOptions = assetBuildOptions(context.root, assetImageTargetOptions(project?.targets));
    const outcome = await withStoreLease(buildOptions.store.root, () =>
      pullAssetFiles(buildOptions, {
        manifestFile,
        ...(options.files ? { files: options.files } : {}),
        onProgress: progress.onProgress,
      }),
    );
    progress.finish();
    if (outcome.written.length === 0) {
      logger.info(
        `${outcome.project}: every file the lock pins is here${outcome.skipped.length > 0 ? ` (${outcome.skipped.length} absent file(s) not matching --files)` : ''}`,
      );
    } else {
      logger.info(`${outcome.project}: wrote ${outcome.written.length} file(s), ${formatBytes(outcome.bytes)}, verified against the lock`);
      for (const file of outcome.written) logger.info(`  ${file}`);
    }
    return { success: true };
  } catch (error) {
    progress.finish();
    logger.error(error instanceof Error ? error.message : String(error));
    return { success: false };
  }
}
