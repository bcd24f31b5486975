/**
 * `asset-push`: push the image `asset-image` built to the registry its
 * asset.json names. Parses options, calls the use case
 * (asset-push/asset-push.ts), renders what it reports.
 */
import { logger, type ExecutorContext } from '../../nx/devkit';
import { optionsAsWritten, taskOverrideWords } from '../../nx/option-text';
import { assetImageTargetOptions } from '../../nx/asset-image-target';
import { assetImageOutputPath } from '../../workspace/workspace-facts';
import { assetProjectsInWorkspace } from '../../nx/asset-projects';
import { pushAsset, type AssetPushEvent } from '../../asset-push/asset-push';
import { pushSummaryLines } from '../../asset-push/push-plan';
import { createProgressRenderer } from '../progress-renderer';
import type { AssetPushExecutorOptions } from './schema';

export default async function assetPushExecutor(
  options: AssetPushExecutorOptions,
  context: ExecutorContext,
): Promise<{ success: boolean }> {
  try {
    const started = Date.now();
    const asWritten = optionsAsWritten(options, ['tags', 'mutableTags'], taskOverrideWords(context), { arrays: ['tags', 'mutableTags'] });
    const project = context.projectName ?? '(unknown project)';
    const projects = context.projectsConfigurations?.projects ?? {};
    const outcome = await pushAsset(
      {
        workspaceRoot: context.root,
        project,
        projectRoot: context.projectName ? projects[context.projectName]?.root : undefined,
        resultDir: assetImageOutputPath(projects[project]?.targets, project),
        imageTargetOptions: assetImageTargetOptions(projects[project]?.targets),
        assets: assetProjectsInWorkspace(projects, context.root, () => undefined),
        options: asWritten,
      },
      { progress: createProgressRenderer, event: renderEvent },
    );
    logger.info(pushSummaryLines(outcome.push, outcome.references, outcome.uploadedBytes, (Date.now() - started) / 1000).join('\n'));
    return { success: true };
  } catch (error) {
    // The use case scrubs the credentials' secrets from what it throws.
    logger.error(error instanceof Error ? error.message : String(error));
    if (process.env['NX_VERBOSE_LOGGING'] === 'true' && error instanceof Error && error.stack) logger.error(error.stack);
    return { success: false };
  }
}

function renderEvent(event: AssetPushEvent): void {
  switch (event.kind) {
    case 'streaming-from-sources':
      return logger.info(`${event.project}: streaming the layers from the asset's files (not in the layout store)`);
    case 'pushing':
      return logger.info(
        `Pushing ${event.manifestDigest} to ${event.repository} (${event.tags.join(', ')})${event.mountFrom.length ? `, mounting from ${event.mountFrom.join(', ')}` : ''}`,
      );
    case 'retrying':
      return logger.warn(`${event.blob}: attempt ${event.attempt} failed, retrying: ${event.message}`);
    case 'tag-moved': {
      const why = event.mutable ? 'a mutable tag' : 'forced (--force): a version tag now names other content';
      return logger.warn(`${event.project}: moved ${event.reference} from ${event.from} to ${event.to} (${why})`);
    }
  }
}
