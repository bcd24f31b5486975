/**
 * The environment contract between the content index (Nx's `preTasksExecution`
 * hook) and the `asset-image` target's runtime input: one variable per asset
 * folder holding its content key line, and the switch that turns the hook off.
 */
import { createHash } from 'node:crypto';

/** Prefix of the per-asset variables. */
export const CONTENT_KEY_ENV_PREFIX = 'NX_ASSET_IMAGES_KEY_';

/** `off`: the hook sets no key, and every runtime input computes its own (as on an agent where the hook does not run). */
export const CONTENT_INDEX_ENV = 'NX_ASSET_IMAGES_CONTENT_INDEX';

/**
 * The variable that carries the key of the asset at `projectRoot` (workspace-relative, posix). A digest of the
 * root, not the root itself: `/bin/sh` (dash) drops variables whose names hold `-`, `.` or `/`, and replacing
 * them would make `a-b` and `a_b` one name.
 */
export function contentKeyEnvName(projectRoot: string): string {
  return `${CONTENT_KEY_ENV_PREFIX}${createHash('sha256').update(projectRoot).digest('hex').slice(0, 16)}`;
}

/**
 * The key variables `env` holds with a value: inherited from an outer nx (a task that runs nx) or set by hand. The
 * hook empties them before it sets its own, so a value it did not set never stands for this command's content.
 */
export function inheritedKeyNames(env: NodeJS.ProcessEnv): string[] {
  return Object.keys(env).filter((name) => name.startsWith(CONTENT_KEY_ENV_PREFIX) && env[name] !== '' && env[name] !== undefined);
}
