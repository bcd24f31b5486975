/**
 * `docker-build`: make every asset image the Dockerfile uses present in Docker
 * at exactly the build recorded in `dist/asset-images/<asset>/image.json`
 * (built by the `asset-image` dependency in this run or restored from Nx's
 * cache), then run `docker build`, streaming Docker's output. Parses options,
 * calls the use case (docker-build/docker-build.ts), renders what it reports.
 */
import { logger, type ExecutorContext } from '../../nx/devkit';
import { optionsAsWritten, taskOverrideWords } from '../../nx/option-text';
import { assetProjectsInWorkspace } from '../../nx/asset-projects';
import { normalizePluginOptions } from '../../nx/plugin-options';
import { dockerBuild, type DockerBuildEvent } from '../../docker-build/docker-build';
import { createProgressRenderer } from '../progress-renderer';
import type { DockerBuildExecutorOptions } from './schema';

export default async function dockerBuildExecutor(
  options: DockerBuildExecutorOptions,
  context: ExecutorContext,
): Promise<{ success: boolean }> {
  try {
    const asWritten = optionsAsWritten(options, ['tags', 'buildArgs'], taskOverrideWords(context), { arrays: ['tags'] });
    const projects = context.projectsConfigurations?.projects ?? {};
    await dockerBuild(
      {
        workspaceRoot: context.root,
        projectName: context.projectName,
        projectRoot: context.projectName ? projects[context.projectName]?.root : undefined,
        assets: assetProjectsInWorkspace(projects, context.root),
        assetImageTargetName: normalizePluginOptions(undefined).assetImageTargetName,
        options: asWritten,
      },
      { progress: createProgressRenderer, event: renderEvent },
    );
    return { success: true };
  } catch (error) {
    logger.error(error instanceof Error ? error.message : String(error));
    if (process.env['NX_VERBOSE_LOGGING'] === 'true' && error instanceof Error && error.stack) logger.error(error.stack);
    return { success: false };
  }
}

function renderEvent(event: DockerBuildEvent): void {
  switch (event.kind) {
    case 'buildx-warning':
      return logger.warn(event.message);
    case 'pin-context':
      return logger.info(
        `${event.reference}: the pinned build, ${event.origin === 'registry' ? 'pulled from the registry into the layout store' : 'from the layout store'}`,
      );
    case 'asset-in-docker': {
      const { project, references, outcome, result } = event;
      const state = Object.entries(outcome.before)
        .map(([ref, p]) => `${ref} ${p}`)
        .join(', ');
      if (outcome.action === 'none') return logger.info(`${project}: ${references.join(', ')} already at ${result.configDigest}`);
      if (outcome.action === 'tagged') return logger.info(`${project}: re-tagged ${result.configDigest} (was: ${state})`);
      return logger.info(`${project}: loaded ${result.manifestDigest} from the ${outcome.action.loaded} (was: ${state})`);
    }
    case 'pin-in-docker':
      return logger.info(
        `${event.project}: ${event.dockerReference} ${event.state === 'present' ? 'already in Docker' : `loaded from the ${event.origin}`}`,
      );
    case 'pin-rewritten':
      return logger.info(`${event.reference} -> ${event.dockerReference} (the pinned build, by its content tag)`);
    case 'docker-build':
      return logger.info(`docker ${event.argv.join(' ')}`);
  }
}
