import type { OciLayoutMode } from '../../asset-image/asset-build';

/** Options of the `asset-image` executor (see schema.json). Paths are relative to the workspace root. */
export interface AssetImageExecutorOptions {
  manifest: string;
  outputPath: string;
  load?: boolean | 'auto';
  ociLayout?: OciLayoutMode;
  platforms?: string[];
  platform?: string;
  largeFileThreshold?: number;
  /** Earlier builds of this asset the store keeps besides the current one (default: the plugin option, else 2). */
  storeHistory?: number;
  /** Prune the store after a successful build (default: the plugin option, else true). */
  gc?: boolean;
}
