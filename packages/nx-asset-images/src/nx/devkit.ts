/**
 * The Nx API that executors and generators use, taken from the workspace's
 * own `nx` (our peer dependency, 22 to 24), not from a `@nx/devkit` of ours.
 *
 * Why: `@nx/devkit` N declares `peerDependencies: nx >= N-1`, so any one
 * devkit we shipped would make `npm i` put a mismatched devkit beside an
 * older `nx` (devkit 24 requires nx 23+: an Nx 22 workspace gets an invalid
 * tree). `@nx/devkit`'s public API is `nx/src/devkit-exports` plus a few
 * helpers of its own; of those we use only `formatFiles`, taken from the
 * workspace's `@nx/devkit` when it has one (formatting is cosmetic: our
 * generators write formatted JSON). This file is the one place that knows
 * where Nx keeps them; the types still come from `@nx/devkit` (a dev
 * dependency, erased at runtime).
 */
import type * as Devkit from '@nx/devkit';

type DevkitModule = typeof Devkit;

// eslint-disable-next-line @typescript-eslint/no-require-imports
const nx = require('nx/src/devkit-exports') as DevkitModule;

export type { ExecutorContext, NxJsonConfiguration, Tree } from '@nx/devkit';

export const logger: DevkitModule['logger'] = nx.logger;
export const getProjects: DevkitModule['getProjects'] = nx.getProjects;
export const globAsync: DevkitModule['globAsync'] = nx.globAsync;
export const readNxJson: DevkitModule['readNxJson'] = nx.readNxJson;
export const updateNxJson: DevkitModule['updateNxJson'] = nx.updateNxJson;
export const writeJson: DevkitModule['writeJson'] = nx.writeJson;

/** `@nx/devkit`'s `formatFiles` when the workspace has `@nx/devkit`; otherwise files stay as written. */
export async function formatFiles(tree: Devkit.Tree): Promise<void> {
  let format: DevkitModule['formatFiles'] | undefined;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    format = (require('@nx/devkit') as DevkitModule).formatFiles;
  } catch {
    return;
  }
  await format(tree);
}
