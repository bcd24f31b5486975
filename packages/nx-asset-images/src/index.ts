export { createNodes, createNodesV2, createDependencies, name } from './plugin/index';
export type { AssetImagesPluginOptions } from './plugin/options';
