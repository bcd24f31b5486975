/** Options of the `asset-push` executor (see schema.json): the use case's own. */
export type { AssetPushOptions as AssetPushExecutorOptions } from '../../asset-push/asset-push-options';
