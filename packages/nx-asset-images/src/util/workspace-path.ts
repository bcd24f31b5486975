import { resolve } from 'node:path';

/**
 * The first of `candidates` that is set and not blank (an empty or all-space
 * environment variable counts as unset), resolved against `workspaceRoot`:
 * relative paths are taken from the workspace root, not from the process's
 * current directory; absolute ones stay (normalised). Undefined when none is set.
 */
export function firstWorkspacePath(workspaceRoot: string, ...candidates: ReadonlyArray<string | undefined>): string | undefined {
  const chosen = candidates.find((candidate) => candidate !== undefined && candidate.trim() !== '');
  return chosen === undefined ? undefined : resolve(workspaceRoot, chosen);
}
