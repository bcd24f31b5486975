/**
 * The few Nx runtime values the graph code uses, imported narrowly.
 *
 * Why: `require('nx/src/devkit-exports')` loads Nx's devkit
 * public API, ~230 modules, 0.45 to 0.9 s in a fresh Nx plugin worker, which
 * has not loaded them (measured: the worker has already loaded the narrow
 * modules below, so they cost nothing). Every `nx` command pays the plugin
 * load, so this is the single largest saving of the plugin.
 *
 * Trade-off: these are deep paths into Nx internals (`nx/src/...`, exported
 * by nx's package.json `./src/*`), which Nx may move in any release. They are
 * imported only here, and each falls back to `nx/src/devkit-exports` (what `@nx/devkit` re-exports) when the deep path
 * is missing or lacks the export, so a move costs speed, never correctness.
 * Type-only imports from `@nx/devkit` elsewhere are free (erased).
 */
import type * as Devkit from '@nx/devkit';

type DevkitModule = typeof Devkit;

let devkit: DevkitModule | undefined;
function fullDevkit(): DevkitModule {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (devkit ??= require('nx/src/devkit-exports') as DevkitModule);
}

function deep<K extends keyof DevkitModule>(path: string, name: K): DevkitModule[K] {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const value = (require(path) as Partial<DevkitModule>)[name];
    if (value !== undefined) return value as DevkitModule[K];
  } catch {
    // Nx moved it: fall back to the public API below.
  }
  return fullDevkit()[name];
}

export const createNodesFromFiles: DevkitModule['createNodesFromFiles'] = deep(
  'nx/src/project-graph/plugins/utils',
  'createNodesFromFiles',
);
export const logger: DevkitModule['logger'] = deep('nx/src/utils/logger', 'logger');
export const DependencyType: DevkitModule['DependencyType'] = deep('nx/src/config/project-graph', 'DependencyType');

let validate: DevkitModule['validateDependency'] | undefined;
/** Loaded on first use: createDependencies only. */
export const validateDependency: DevkitModule['validateDependency'] = (dependency, context) =>
  (validate ??= deep('nx/src/project-graph/project-graph-builder', 'validateDependency'))(dependency, context);

/** `postTasksExecution` only (reads the cached graph after tasks ran). */
export const readCachedProjectGraph: DevkitModule['readCachedProjectGraph'] = (...args) =>
  deep('nx/src/project-graph/project-graph', 'readCachedProjectGraph')(...args);

/** `.nx/workspace-data` (or `NX_WORKSPACE_DATA_DIRECTORY`), where Nx's own plugins cache createNodes results; `nx reset` clears it. */
export function workspaceDataDirectory(): string {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const dir = (require('nx/src/utils/cache-directory') as { workspaceDataDirectory?: unknown }).workspaceDataDirectory;
    if (typeof dir === 'string') return dir;
  } catch {
    // fall through
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const dir = (require('nx/src/devkit-internals') as { workspaceDataDirectory?: unknown }).workspaceDataDirectory;
  if (typeof dir !== 'string') throw new Error('nx-asset-images: cannot locate the Nx workspace data directory');
  return dir;
}

/** The workspace root of the running Nx process (where `workspaceDataDirectory` lives). */
export function nxWorkspaceRoot(): string {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const root = (require('nx/src/utils/workspace-root') as { workspaceRoot?: unknown }).workspaceRoot;
    if (typeof root === 'string') return root;
  } catch {
    // fall through
  }
  return fullDevkit().workspaceRoot;
}
