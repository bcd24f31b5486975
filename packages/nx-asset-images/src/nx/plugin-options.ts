import { DEFAULT_TARGET_NAMES } from '../workspace/workspace-facts';

/** Options of the `nx-asset-images/plugin` entry in `nx.json`. */
export interface AssetImagesPluginOptions {
  /** Name of the inferred target that builds an asset's image. Default `asset-image`. */
  assetImageTargetName?: string;
  /** Name of the inferred target that pushes an asset's image. Default `asset-push`. */
  assetPushTargetName?: string;
  /** Name of the inferred target that writes an asset's absent files from the registry. Default `asset-pull`. */
  assetPullTargetName?: string;
  /** Name of the inferred target that builds an app's Dockerfile. Default `docker-build`. */
  dockerBuildTargetName?: string;
  /**
   * An existing docker target (for example `docker:build` from `@nx/docker`)
   * to add the `asset-image` dependencies to, instead of inferring
   * `docker-build`. List this plugin after that one in `nx.json`.
   */
  attachToTarget?: string;
  /**
   * Files of at least this many bytes get a layer of their own (default 16 MiB).
   * Set it here rather than on one target: the content key uses it too.
   */
  largeFileThreshold?: number;
  /**
   * The platforms every asset is built for when its asset.json names none (default
   * `["linux/amd64", "linux/arm64"]`): several give one OCI index whose manifests share every layer.
   */
  platforms?: string[];
  /**
   * Earlier builds per asset the local store (`.asset-images`) keeps besides the current one (default 2).
   * Read at run time by the asset-image executor and `nx-asset-images gc` (not a target option: changing it is no new build).
   */
  storeHistory?: number;
  /** Prune the local store after each successful asset-image build (default true). */
  gc?: boolean;
}

export interface NormalizedPluginOptions {
  assetImageTargetName: string;
  assetPushTargetName: string;
  assetPullTargetName: string;
  dockerBuildTargetName: string;
  attachToTarget?: string;
  largeFileThreshold?: number;
  /** As given (checked where a build reads it, with an error naming the entry). */
  platforms?: string[];
}

export function normalizePluginOptions(options: AssetImagesPluginOptions | undefined): NormalizedPluginOptions {
  const attach = options?.attachToTarget?.trim();
  return {
    assetImageTargetName: options?.assetImageTargetName || DEFAULT_TARGET_NAMES.assetImage,
    assetPushTargetName: options?.assetPushTargetName || DEFAULT_TARGET_NAMES.assetPush,
    assetPullTargetName: options?.assetPullTargetName || DEFAULT_TARGET_NAMES.assetPull,
    dockerBuildTargetName: options?.dockerBuildTargetName || DEFAULT_TARGET_NAMES.dockerBuild,
    ...(attach ? { attachToTarget: attach } : {}),
    ...(typeof options?.largeFileThreshold === 'number' && options.largeFileThreshold > 0
      ? { largeFileThreshold: Math.floor(options.largeFileThreshold) }
      : {}),
    ...(Array.isArray(options?.platforms) ? { platforms: options.platforms } : {}),
  };
}
