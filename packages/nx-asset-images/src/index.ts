export { createNodes, createNodesV2, createDependencies, postTasksExecution, name } from './plugin/index';
export type { AssetImagesPluginOptions } from './nx/plugin-options';
