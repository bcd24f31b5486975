export { createNodes, createNodesV2, createDependencies, preTasksExecution, postTasksExecution, name } from './plugin/index';
export type { AssetImagesPluginOptions } from './nx/plugin-options';
