/** The workspace's asset projects as the docker-build and asset-push use cases take them (plain data, no Nx types). */
import type { ProjectConfiguration } from '@nx/devkit';
import type { AssetProject, AssetProjectMap } from '../asset/asset-project';
import { findAssetImagesInWorkspace, type Warn } from './asset-images-in-workspace';
import { assetImageTargetOptions } from './asset-image-target';
import { assetImageOutputPath } from '../workspace/workspace-facts';

/** Each asset image of `projects` (see `findAssetImagesInWorkspace`) with its asset-image target's result directory and options. */
export function assetProjectsInWorkspace(
  projects: Readonly<Record<string, ProjectConfiguration>>,
  workspaceRoot: string,
  warn?: Warn,
): AssetProjectMap {
  const out = new Map<string, AssetProject>();
  for (const [key, { projectName, root, reference }] of findAssetImagesInWorkspace(projects, workspaceRoot, warn)) {
    const targets = projects[projectName]?.targets;
    out.set(key, {
      projectName,
      root,
      reference,
      resultDir: assetImageOutputPath(targets, projectName),
      imageTargetOptions: assetImageTargetOptions(targets),
    });
  }
  return out;
}
