import type { CreateNodes } from '@nx/devkit';
import { createNodesFromFiles } from './nx-api';
import { basename } from 'node:path';
import { ASSET_MANIFEST_FILE, createAssetProjectNode } from './asset-nodes';
import { createDependencies } from './create-dependencies';
import { createDockerBuildNode } from './docker-build-nodes';
import type { AssetImagesPluginOptions } from './options';

/** Asset manifests and the Dockerfiles that may consume asset images. */
export const ASSET_IMAGES_GLOB = `**/{${ASSET_MANIFEST_FILE},Dockerfile,Dockerfile.*,*.Dockerfile}`;

export const createNodes: CreateNodes<AssetImagesPluginOptions> = [
  ASSET_IMAGES_GLOB,
  (files, options, context) =>
    createNodesFromFiles(
      (file, opts, ctx) =>
        basename(file) === ASSET_MANIFEST_FILE
          ? createAssetProjectNode(file, opts, ctx.workspaceRoot)
          : createDockerBuildNode(file, opts, ctx),
      files,
      options ?? {},
      context,
    ),
];

/** Nx 22 to 24 read `createNodesV2`; it is the same tuple. */
export const createNodesV2 = createNodes;

export { createDependencies };
export { postTasksExecution } from './restore-cached-images';
export const name = 'nx-asset-images';
