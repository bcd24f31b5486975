/**
 * Infers a `docker-build` target on a project whose Dockerfile uses asset
 * images, depending on those assets' `asset-image` targets. With
 * `attachToTarget` (e.g. `docker:build` from `@nx/docker`) only the
 * dependency is added to that target: `dependsOn: ['...', ...]` keeps what the
 * other plugin declared (list this plugin after it in `nx.json`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import type { CreateNodes, CreateNodesContext, CreateNodesResult, TargetConfiguration } from '@nx/devkit';
import { createNodesFromFiles } from '../nx/nx-api';
import { ASSET_MANIFEST_FILE } from '../manifest/manifest';
import { isDockerfileName } from '../dockerfile/find-image-references';
import { dockerfileRepositoryKeysCached, flushDockerfileReferences } from './dockerfile-references';
import { assetImagesFromManifestFiles, type AssetImageMap } from '../nx/asset-images-in-workspace';
import { normalizePluginOptions, type AssetImagesPluginOptions, type NormalizedPluginOptions } from '../nx/plugin-options';
import { ASSET_MANIFEST_GLOB, DOCKER_BUILD_EXECUTOR, DOCKERFILE_GLOB, WORKSPACE_GLOB_IGNORE } from '../workspace/workspace-facts';

/** Asset manifests, found once per createNodes invocation (keyed by its file list). */
const assetsByInvocation = new WeakMap<readonly string[], AssetImageMap>();

/** All `asset.json` under the workspace root, as paths relative to it. */
export function globAssetManifests(workspaceRoot: string): string[] {
  // Required here, not at plugin load: only this fallback needs it (~0.15 s to load).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const fg = require('fast-glob') as typeof import('fast-glob');
  return fg.sync(ASSET_MANIFEST_GLOB, { cwd: workspaceRoot, ignore: [...WORKSPACE_GLOB_IGNORE], dot: false, onlyFiles: true }).sort();
}

function assetsFor(context: CreateNodesContext & { configFiles?: readonly string[] }): AssetImageMap {
  const files = context.configFiles;
  const compute = (): AssetImageMap => {
    // When the plugin's glob matches asset.json too (plugin/index.ts), the
    // manifests are in the invocation's file list; otherwise glob the disk.
    const listed = files?.filter((f) => posix.basename(f) === ASSET_MANIFEST_FILE) ?? [];
    const manifests = listed.length > 0 ? listed : globAssetManifests(context.workspaceRoot);
    return assetImagesFromManifestFiles(manifests, context.workspaceRoot);
  };
  if (!files) return compute();
  let map = assetsByInvocation.get(files);
  if (!map) {
    map = compute();
    assetsByInvocation.set(files, map);
  }
  return map;
}

/** `docker-build` for `Dockerfile`, `docker-build-prod` for `Dockerfile.prod`, `docker-build-api` for `api.Dockerfile`. */
export function dockerBuildTargetName(dockerfileName: string, baseName: string): string {
  if (dockerfileName === 'Dockerfile') return baseName;
  const suffix = dockerfileName.startsWith('Dockerfile.')
    ? dockerfileName.slice('Dockerfile.'.length)
    : dockerfileName.slice(0, -'.Dockerfile'.length);
  const slug = suffix
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return slug ? `${baseName}-${slug}` : baseName;
}

export function dockerBuildTarget(
  dockerfile: string,
  projectRoot: string,
  assetProjects: readonly string[],
  assetImageTargetName: string,
): TargetConfiguration {
  return {
    executor: DOCKER_BUILD_EXECUTOR,
    dependsOn: [{ projects: [...assetProjects], target: assetImageTargetName }],
    options: { dockerfile, context: projectRoot },
    cache: false,
    metadata: {
      description: `Build ${dockerfile} with Docker, after the asset images it uses (${assetProjects.join(', ')})`,
      technologies: ['docker'],
    },
  };
}

export function attachedTarget(assetProjects: readonly string[], assetImageTargetName: string): TargetConfiguration {
  return { dependsOn: ['...', { projects: [...assetProjects], target: assetImageTargetName }] };
}

/** The per-file createNodes function for one Dockerfile (path relative to the workspace root). */
export function createDockerBuildNode(
  file: string,
  options: AssetImagesPluginOptions | undefined,
  context: CreateNodesContext & { configFiles?: readonly string[] },
): CreateNodesResult {
  return dockerBuildNodeFor(file, options, context.workspaceRoot, () => assetsFor(context));
}

function dockerBuildNodeFor(
  file: string,
  options: AssetImagesPluginOptions | undefined,
  workspaceRoot: string,
  getAssets: () => AssetImageMap,
): CreateNodesResult {
  const fileName = posix.basename(file);
  if (!isDockerfileName(fileName)) return {};
  const projectRoot = posix.dirname(file);
  if (projectRoot === '.') return {};
  const dir = join(workspaceRoot, projectRoot);
  // Only a folder that already is a project gets the target: bare Dockerfiles do not make projects.
  if (!existsSync(join(dir, 'project.json')) && !existsSync(join(dir, 'package.json'))) return {};

  const assets = getAssets();
  if (assets.size === 0) return {};
  // Throws on unreadable files: createNodesFromFiles turns that into a per-file error.
  const keys = dockerfileRepositoryKeysCached(readFileSync(join(workspaceRoot, file), 'utf8'), file, workspaceRoot);
  const used = new Set<string>();
  for (const key of keys) {
    const asset = assets.get(key);
    if (asset && asset.root !== projectRoot) used.add(asset.projectName);
  }
  if (used.size === 0) return {};
  const assetProjects = [...used].sort();
  const opts: NormalizedPluginOptions = normalizePluginOptions(options);
  const targets: Record<string, TargetConfiguration> = opts.attachToTarget
    ? { [opts.attachToTarget]: attachedTarget(assetProjects, opts.assetImageTargetName) }
    : {
        [dockerBuildTargetName(fileName, opts.dockerBuildTargetName)]: dockerBuildTarget(
          file,
          projectRoot,
          assetProjects,
          opts.assetImageTargetName,
        ),
      };
  return { projects: { [projectRoot]: { targets } } };
}

/** A standalone `[glob, fn]` for Dockerfiles (plugin/index.ts combines the globs instead). */
export const createDockerBuildNodes: CreateNodes<AssetImagesPluginOptions> = [
  DOCKERFILE_GLOB,
  async (files, options, context) => {
    const dockerfiles = files.filter((f) => isDockerfileName(posix.basename(f)));
    let assets: AssetImageMap | undefined;
    const getAssets = (): AssetImageMap =>
      (assets ??= assetImagesFromManifestFiles(globAssetManifests(context.workspaceRoot), context.workspaceRoot));
    try {
      return await createNodesFromFiles(
        (file, opts, ctx) => dockerBuildNodeFor(file, opts, ctx.workspaceRoot, getAssets),
        dockerfiles,
        options ?? {},
        context,
      );
    } finally {
      await flushDockerfileReferences(context.workspaceRoot);
    }
  },
];
