import { formatFiles, logger, readNxJson, updateNxJson, type NxJsonConfiguration, type Tree } from '../../nx/devkit';
import type { InitGeneratorSchema } from './schema';
import { addGitignoreEntries } from './gitignore-entries';
import { findPluginRegistration } from './plugin-registration';
import { ASSET_STORE_DIR } from '../../asset/asset-store';
import { DIST_DIR, LOCK_SYNC_GENERATOR, PLUGIN_NAME } from '../../workspace/workspace-facts';

/** Build outputs the plugin writes at the workspace root: the local content store and `dist/`. */
export const GITIGNORE_ENTRIES = [ASSET_STORE_DIR, DIST_DIR] as const;

export const CI_ADVICE =
  'nx-asset-images: each asset.lock.json is rewritten by the asset-image target (and by `nx sync`, through the global sync generator "nx-asset-images:lock"). ' +
  'In CI, run `nx sync:check` so that a lock file that does not match the asset content fails the build.';

/** `nx g nx-asset-images:init`: registers the plugin and the lock sync generator, gitignores outputs. */
export async function initGenerator(tree: Tree, options: InitGeneratorSchema = {}): Promise<void> {
  const nxJson: NxJsonConfiguration = readNxJson(tree) ?? {};
  let nxJsonChanged = false;

  if (findPluginRegistration(nxJson) === undefined) {
    nxJson.plugins = [...(nxJson.plugins ?? []), { plugin: PLUGIN_NAME, options: {} }];
    nxJsonChanged = true;
  }
  // A global sync generator: `nx sync` brings the locks up to date, `nx sync:check` fails CI on a stale one.
  // Not a task sync generator: Nx skips those in CI and cannot apply them without a TTY.
  const globalGenerators = nxJson.sync?.globalGenerators ?? [];
  if (!globalGenerators.includes(LOCK_SYNC_GENERATOR)) {
    nxJson.sync = { ...nxJson.sync, globalGenerators: [...globalGenerators, LOCK_SYNC_GENERATOR] };
    nxJsonChanged = true;
  }
  if (nxJsonChanged) updateNxJson(tree, nxJson);

  const gitignore = tree.exists('.gitignore') ? tree.read('.gitignore', 'utf-8') : null;
  const updated = addGitignoreEntries(gitignore, GITIGNORE_ENTRIES, '# nx-asset-images');
  if (updated !== (gitignore ?? '')) tree.write('.gitignore', updated);

  logger.info(CI_ADVICE);

  if (!options.skipFormat) await formatFiles(tree);
}

export default initGenerator;
