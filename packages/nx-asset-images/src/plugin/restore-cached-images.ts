import { join } from 'node:path';
import type { PostTasksExecution } from '@nx/devkit';
import { logger, readCachedProjectGraph } from '../nx/nx-api';
import { normalizePluginOptions, type AssetImagesPluginOptions } from '../nx/plugin-options';

const CACHE_HIT = new Set(['local-cache', 'local-cache-kept-existing', 'remote-cache']);

/**
 * A cache hit of `asset-image` restores the small result (digests, tags) but runs
 * nothing, so Docker may lack the image the result promises (a remote cache hit on a
 * fresh machine, `docker image prune`, another engine). After the tasks, for each such
 * hit whose target loads images, make Docker hold every promised tag at the promised
 * config digest: bytes from the layout store, a verified rebuild, or the registry.
 */
export const postTasksExecution: PostTasksExecution<AssetImagesPluginOptions> = async (options, context) => {
  const target = normalizePluginOptions(options).assetImageTargetName;
  const hits = Object.values(context.taskResults).filter((result) => result.task.target.target === target && CACHE_HIT.has(result.status));
  if (hits.length === 0) return;
  const targetOptionsOf = targetOptionsReader();
  const wanted = hits.filter((hit) => loadOption(targetOptionsOf(hit.task.target.project, target), hit.task.overrides) !== false);
  if (wanted.length === 0) return;
  // Loaded here, not at plugin load: the graph of every nx command would pay for them.
  const { readAssetImageResult, variantOf } = await import('../asset/asset-image-result.js');
  const { variantFromIndex } = await import('../resolve/resolve-asset-index.js');
  const { ensureAssetImageInDocker } = await import('../resolve/docker-presence.js');
  const { unrecordedBuildDefaults } = await import('../resolve/resolve-asset-image.js');
  const { defaultDockerPlatform, dockerEngine } = await import('../transports/docker-engine.js');
  const { assetStorePaths } = await import('../asset/asset-store.js');
  const { acquireStoreLease } = await import('../gc/store-lease.js');
  const found = await dockerEngine();
  if (!found) return;
  const engine = found;

  // A restore reads the layout store: gc waits for it (and it for a running gc).
  const releaseLease = await acquireStoreLease(assetStorePaths(context.workspaceRoot).root);
  try {
    await restoreHits();
  } finally {
    await releaseLease();
  }

  async function restoreHits(): Promise<void> {
    for (const hit of wanted) {
      const project = hit.task.target.project;
      try {
        const resultDir = hit.task.outputs.find((output) => output.includes('asset-images'));
        const result = resultDir ? await readAssetImageResult(join(context.workspaceRoot, resultDir)) : undefined;
        if (!result || !hit.task.projectRoot) continue;
        // A rebuild uses the parameters the result records; today's settings only for an image.json without them.
        const targetOptions = targetOptionsOf(project, target);
        // A multi-platform build: Docker holds the variant the build gave it, of the target's platform or else the
        // engine's (bytes: layout store, rebuild, registry).
        const explicit = typeof targetOptions['platform'] === 'string' && targetOptions['platform'] !== '';
        const wanted = explicit ? (targetOptions['platform'] as string) : defaultDockerPlatform(engine);
        const platform = variantOf(result, wanted) || explicit ? wanted : (result.platforms?.[0]?.platform ?? wanted);
        const variant = variantOf(result, platform);
        if (!variant) continue;
        const outcome = await ensureAssetImageInDocker(
          context.workspaceRoot,
          `${hit.task.projectRoot}/asset.json`,
          { ...result, ...variant },
          result.references,
          {
            resolve: unrecordedBuildDefaults(result, targetOptions),
            ...(result.platforms
              ? {
                  resolveImage: async () => variantFromIndex(context.workspaceRoot, `${hit.task.projectRoot}/asset.json`, result, platform),
                }
              : {}),
          },
        );
        if (outcome.action !== 'none') {
          const how = outcome.action === 'tagged' ? 'tagged the image it still held' : `loaded it (bytes from ${outcome.action.loaded})`;
          logger.info(`nx-asset-images: ${project}: cache hit, and Docker lacked ${result.references[0]}: ${how}.`);
        }
      } catch (error) {
        logger.warn(`nx-asset-images: ${project}: cache hit, but the image could not be put into Docker: ${(error as Error).message}`);
      }
    }
  }
};

/** Target options from the cached graph, read once per hook call (not once per hit: 100 hits read it 100 times). */
function targetOptionsReader(): (project: string, target: string) => Record<string, unknown> {
  let graph: ReturnType<typeof readCachedProjectGraph> | null | undefined;
  return (project, target) => {
    if (graph === undefined) {
      try {
        graph = readCachedProjectGraph();
      } catch {
        graph = null;
      }
    }
    return (graph?.nodes[project]?.data.targets?.[target]?.options ?? {}) as Record<string, unknown>;
  };
}

function loadOption(targetOptions: Record<string, unknown>, overrides: Record<string, unknown>): unknown {
  const value = 'load' in overrides ? overrides['load'] : (targetOptions['load'] ?? 'auto');
  // `--load=false` reaches the overrides as the string (the option is a boolean or "auto").
  return value === 'false' ? false : value;
}
