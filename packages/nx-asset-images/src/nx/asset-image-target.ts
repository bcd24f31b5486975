/**
 * An asset project's `asset-image` target as other targets (asset-push,
 * docker-build) find it in the project configurations: by executor, whatever
 * the target is named.
 */
import { assetResultDir } from '../asset/asset-image-result';

export const ASSET_IMAGE_EXECUTOR = 'nx-asset-images:asset-image';
export const ASSET_PUSH_EXECUTOR = 'nx-asset-images:asset-push';

type Targets = Record<string, { executor?: string; options?: Record<string, unknown> }> | undefined;

/** The asset-image target's options; none when the project has no such target. */
export function assetImageTargetOptions(targets: Targets): Record<string, unknown> {
  return Object.values(targets ?? {}).find((t) => t.executor === ASSET_IMAGE_EXECUTOR)?.options ?? {};
}

/** The asset-image target's `outputPath`, else the default `dist/asset-images/<project>`. */
export function assetImageOutputPath(targets: Targets, projectName: string): string {
  for (const target of Object.values(targets ?? {})) {
    const out = target.options?.['outputPath'];
    if (target.executor === ASSET_IMAGE_EXECUTOR && typeof out === 'string') return out;
  }
  return assetResultDir(projectName);
}

/** The asset-push target's `mutableTags`, when it sets a list: the tags a build may see change content without a warning. */
export function assetPushMutableTags(targets: Targets): string[] | undefined {
  const value = Object.values(targets ?? {}).find((t) => t.executor === ASSET_PUSH_EXECUTOR)?.options?.['mutableTags'];
  return Array.isArray(value) && value.every((t) => typeof t === 'string') ? [...(value as string[])] : undefined;
}
