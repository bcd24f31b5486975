import { formatFiles, logger, readNxJson, updateNxJson, type NxJsonConfiguration, type Tree } from '@nx/devkit';
import type { InitGeneratorSchema } from './schema';
import { addGitignoreEntries } from './gitignore-entries';
import { findPluginRegistration, PLUGIN_NAME } from './plugin-registration';

/** Build outputs the plugin writes at the workspace root: the local content store and `dist/`. */
export const GITIGNORE_ENTRIES = ['.asset-images', 'dist'] as const;

export const CI_ADVICE =
  'nx-asset-images keeps each asset.lock.json current through the sync generator "nx-asset-images:lock". ' +
  'In CI, run `nx sync:check` so that a lock file that does not match the asset content fails the build.';

/** `nx g nx-asset-images:init`: registers the plugin, turns on sync.applyChanges unless set, gitignores outputs. */
export async function initGenerator(tree: Tree, options: InitGeneratorSchema = {}): Promise<void> {
  const nxJson: NxJsonConfiguration = readNxJson(tree) ?? {};
  let nxJsonChanged = false;

  if (findPluginRegistration(nxJson) === undefined) {
    nxJson.plugins = [...(nxJson.plugins ?? []), { plugin: PLUGIN_NAME, options: {} }];
    nxJsonChanged = true;
  }
  // The lock files are kept by a sync generator; without applyChanges every
  // `nx run` of an asset target would prompt (or, non-interactive, skip the update).
  if (nxJson.sync?.applyChanges === undefined) {
    nxJson.sync = { ...nxJson.sync, applyChanges: true };
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
