import type { CreateNodes } from '@nx/devkit';
import { createNodesFromFiles } from '../nx/nx-api';
import { basename } from 'node:path';
import { createAssetProjectNodeCached, flushAssetNodes } from './asset-nodes';
import { ASSET_MANIFEST_FILE } from '../manifest/manifest';
import { ASSET_IMAGES_GLOB, PLUGIN_NAME } from '../workspace/workspace-facts';
import { createDependencies } from './create-dependencies';
import { createDockerBuildNode } from './docker-build-nodes';
import { flushDockerfileReferences } from './dockerfile-references';
import { beginFileTextMemo, endFileTextMemo } from '../nx/file-text-memo';
import type { AssetImagesPluginOptions } from '../nx/plugin-options';

export const createNodes: CreateNodes<AssetImagesPluginOptions> = [
  ASSET_IMAGES_GLOB,
  async (files, options, context) => {
    beginFileTextMemo();
    try {
      return await createNodesFromFiles(
        (file, opts, ctx) =>
          basename(file) === ASSET_MANIFEST_FILE
            ? createAssetProjectNodeCached(file, opts, ctx.workspaceRoot)
            : createDockerBuildNode(file, opts, ctx),
        files,
        options ?? {},
        context,
      );
    } finally {
      endFileTextMemo();
      // Results are cached across runs (.nx/workspace-data, cleared by `nx reset`).
      await Promise.all([flushAssetNodes(context.workspaceRoot), flushDockerfileReferences(context.workspaceRoot)]);
    }
  },
];

/** Nx 22 to 24 read `createNodesV2`; it is the same tuple. */
export const createNodesV2 = createNodes;

export { createDependencies };
export { postTasksExecution } from './restore-cached-images';
export { preTasksExecution } from './content-index-hook';
export const name = PLUGIN_NAME;
