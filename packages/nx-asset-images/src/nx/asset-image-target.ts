/**
 * An asset project's `asset-image` and `asset-push` targets as other targets
 * (asset-push, asset-pull, docker-build) find them in the project
 * configurations: by executor, whatever the target is named. The result
 * folder (`outputPath`) is `assetImageOutputPath` of workspace/workspace-facts.ts.
 */
import { ASSET_IMAGE_EXECUTOR, ASSET_PUSH_EXECUTOR } from '../workspace/workspace-facts';

type Targets = Record<string, { executor?: string; options?: Record<string, unknown> }> | undefined;

/** The asset-image target's options; none when the project has no such target. */
export function assetImageTargetOptions(targets: Targets): Record<string, unknown> {
  return Object.values(targets ?? {}).find((t) => t.executor === ASSET_IMAGE_EXECUTOR)?.options ?? {};
}

/** The asset-push target's `mutableTags`, when it sets a list: the tags a build may see change content without a warning. */
export function assetPushMutableTags(targets: Targets): string[] | undefined {
  const value = Object.values(targets ?? {}).find((t) => t.executor === ASSET_PUSH_EXECUTOR)?.options?.['mutableTags'];
  return Array.isArray(value) && value.every((t) => typeof t === 'string') ? [...(value as string[])] : undefined;
}
