import { assetStorePaths, type AssetStorePaths } from './asset-store';
import { buildEnvironment, type BuildEnvironment } from './environment';

/** Everything an asset build depends on besides the asset itself, built once per entry point. */
export interface AssetBuildOptions extends BuildEnvironment {
  workspaceRoot: string;
  store: AssetStorePaths;
  /** gzip/zstd level; default the codec's. Only a rebuild of a recorded result sets it. */
  compressionLevel?: number;
  /** Tags that may change content (asset-push's `mutableTags`); default `latest`. A build warns when any other stays on new content. */
  mutableTags?: readonly string[];
}

/** The options of a build in `workspaceRoot` from the environment and the asset-image target's options. */
export function assetBuildOptions(
  workspaceRoot: string,
  target: { platforms?: unknown; platform?: unknown; largeFileThreshold?: unknown } = {},
  env: NodeJS.ProcessEnv = process.env,
): AssetBuildOptions {
  return { workspaceRoot, store: assetStorePaths(workspaceRoot, undefined, env), ...buildEnvironment(target, env) };
}
