import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { CreateNodesResult } from '@nx/devkit';
import { logger } from './nx-api';
import { parseAssetManifest } from '../assets/manifest';
import { assetImageTarget, assetPushTarget, brokenManifestTarget } from './asset-targets';
import { normalizePluginOptions, type AssetImagesPluginOptions } from './options';

export const ASSET_MANIFEST_FILE = 'asset.json';

/**
 * One asset.json → one asset project with `asset-image` and `asset-push` targets.
 * A manifest that does not validate still yields its project, whose targets fail with
 * the error: the rest of the graph keeps loading.
 */
export function createAssetProjectNode(
  manifestFile: string,
  options: AssetImagesPluginOptions | undefined,
  workspaceRoot: string,
): CreateNodesResult {
  const opts = normalizePluginOptions(options);
  const projectRoot = dirname(manifestFile);
  let name: string;
  let targets: Record<string, ReturnType<typeof assetImageTarget>>;
  let tags: string[] = ['asset'];
  try {
    const text = readFileSync(join(workspaceRoot, manifestFile), 'utf8');
    const manifest = parseAssetManifest(text, manifestFile, projectRoot);
    name = manifest.name;
    targets = {
      [opts.assetImageTargetName]: assetImageTarget(projectRoot, name, opts.largeFileThreshold),
      [opts.assetPushTargetName]: assetPushTarget(opts.assetImageTargetName),
    };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    logger.warn(`nx-asset-images: ${message}`);
    name = bestEffortName(projectRoot, join(workspaceRoot, manifestFile));
    tags = ['asset', 'invalid-asset-manifest'];
    targets = {
      [opts.assetImageTargetName]: brokenManifestTarget(message),
      [opts.assetPushTargetName]: brokenManifestTarget(message),
    };
  }
  return {
    projects: {
      [projectRoot]: {
        name,
        root: projectRoot,
        projectType: 'library',
        tags,
        targets,
        metadata: {
          technologies: ['docker'],
          targetGroups: { 'Asset image': [opts.assetImageTargetName, opts.assetPushTargetName] },
        },
      },
    },
  };
}

/** The project name of a manifest that failed validation: its `name` if readable, else the folder path with `/` → `-`. */
function bestEffortName(projectRoot: string, manifestPath: string): string {
  try {
    const parsed: unknown = JSON.parse(readFileSync(manifestPath, 'utf8'));
    const name = (parsed as { name?: unknown } | null)?.name;
    if (typeof name === 'string' && /^[\w@][\w@./-]*$/.test(name)) return name;
  } catch {
    // fall through to the folder-derived name
  }
  return projectRoot.split('/').join('-');
}
