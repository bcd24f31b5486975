/**
 * The environment contract between the content index (Nx's `preTasksExecution`
 * hook) and the `asset-image` target's runtime input: one variable naming this
 * command's key folder (`key-folder.ts`), a file in it per indexed asset, and
 * the switch that turns the hook off.
 */
import { createHash } from 'node:crypto';

/** The absolute path of this command's key folder; empty when the hook found no indexed asset or did not run. */
export const CONTENT_KEYS_ENV = 'NX_ASSET_IMAGES_KEYS';

/** `off`: the hook sets no key, and every runtime input computes its own (as on an agent where the hook does not run). */
export const CONTENT_INDEX_ENV = 'NX_ASSET_IMAGES_CONTENT_INDEX';

/**
 * The file in a key folder that holds the key line of the asset at `projectRoot` (workspace-relative, posix):
 * 16 hex of its sha256, so the shell needs no quoting and `a-b` and `a_b` stay apart.
 */
export function contentKeyFileName(projectRoot: string): string {
  return createHash('sha256').update(projectRoot).digest('hex').slice(0, 16);
}
