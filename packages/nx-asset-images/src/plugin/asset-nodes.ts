import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { CreateNodesResult } from '@nx/devkit';
import { readFileTextMemo } from '../nx/file-text-memo';
import { cacheKey, graphCache } from './graph-cache';
import { logger } from '../nx/nx-api';
import { defaultAssetName, parseAssetManifest } from '../manifest/manifest';
import { assetImageTarget, assetPullTarget, assetPushTarget, brokenManifestTarget } from './asset-targets';
import { normalizePluginOptions, type AssetImagesPluginOptions } from '../nx/plugin-options';

const CACHE_NAME = 'asset-nodes';

/** A cached asset node: the result, and the warning to repeat for an invalid manifest. */
interface CachedAssetNode {
  result: CreateNodesResult;
  warning?: string;
}

/**
 * `createAssetProjectNode`, cached across runs by (manifest path, content, options,
 * plugin version): a warm run neither loads ajv nor validates. A manifest that
 * cannot be read is not cached.
 */
export function createAssetProjectNodeCached(
  manifestFile: string,
  options: AssetImagesPluginOptions | undefined,
  workspaceRoot: string,
): CreateNodesResult {
  let text: string;
  try {
    text = readFileTextMemo(join(workspaceRoot, manifestFile));
  } catch {
    return createAssetProjectNode(manifestFile, options, workspaceRoot);
  }
  const cache = graphCache<CachedAssetNode>(CACHE_NAME, workspaceRoot);
  const key = cacheKey('asset-node', manifestFile, JSON.stringify(normalizePluginOptions(options)), text);
  const cached = cache.get(key);
  if (cached) {
    if (cached.warning) logger.warn(cached.warning);
    // A copy: Nx may modify what it is given, and the entry is written back to disk.
    return structuredClone(cached.result);
  }
  let warning: string | undefined;
  const result = buildAssetProjectNode(manifestFile, options, workspaceRoot, text, (m) => {
    warning = m;
    logger.warn(m);
  });
  const entry: CachedAssetNode = { result: structuredClone(result) };
  if (warning !== undefined) entry.warning = warning;
  cache.set(key, entry);
  return result;
}

/** Writes the asset node cache of `workspaceRoot` if it changed. */
export function flushAssetNodes(workspaceRoot: string): Promise<void> {
  return graphCache(CACHE_NAME, workspaceRoot).flush();
}

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
  return buildAssetProjectNode(manifestFile, options, workspaceRoot, undefined, (m) => logger.warn(m));
}

function buildAssetProjectNode(
  manifestFile: string,
  options: AssetImagesPluginOptions | undefined,
  workspaceRoot: string,
  manifestText: string | undefined,
  warn: (message: string) => void,
): CreateNodesResult {
  const opts = normalizePluginOptions(options);
  const projectRoot = dirname(manifestFile);
  let name: string;
  let targets: Record<string, ReturnType<typeof assetImageTarget>>;
  let tags: string[] = ['asset'];
  let text: string | undefined = manifestText;
  try {
    text ??= readFileSync(join(workspaceRoot, manifestFile), 'utf8');
    const manifest = parseAssetManifest(text, manifestFile, projectRoot);
    name = manifest.name;
    targets = {
      [opts.assetImageTargetName]: assetImageTarget(projectRoot, name, opts.largeFileThreshold, opts.platforms),
      [opts.assetPushTargetName]: assetPushTarget(opts.assetImageTargetName),
      [opts.assetPullTargetName]: assetPullTarget(),
    };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    warn(`nx-asset-images: ${message}`);
    // The project keeps its name when asset.json still says it (targets that fail with the error, not a renamed project).
    name =
      (text !== undefined ? parseAssetManifest(text, manifestFile, projectRoot, { tolerant: true }).name : undefined) ??
      defaultAssetName(projectRoot);
    tags = ['asset', 'invalid-asset-manifest'];
    targets = {
      [opts.assetImageTargetName]: brokenManifestTarget(message),
      [opts.assetPushTargetName]: brokenManifestTarget(message),
      [opts.assetPullTargetName]: brokenManifestTarget(message),
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
          targetGroups: { 'Asset image': [opts.assetImageTargetName, opts.assetPushTargetName, opts.assetPullTargetName] },
        },
      },
    },
  };
}
