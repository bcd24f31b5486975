export interface AssetPullExecutorOptions {
  manifest?: string;
  files?: string;
}
