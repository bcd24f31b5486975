import { formatFiles, getProjects, logger, readNxJson, writeJson, type Tree } from '../../nx/devkit';
import { posix } from 'node:path';
import { addGitignoreEntries } from '../init/gitignore-entries';
import { assetTargetNames } from '../init/plugin-registration';
import { assetGitignoreEntries, ASSET_GITIGNORE_HEADING, assetManifest, assetReadme } from './asset-files';
import { assetDirectory, normalizeAssetOptions, normalizeHubOptions } from './asset-options';
import { importFromHub, updateAssetFromHub, warnUnusedOptions } from './asset-from-hub';
import { ASSET_MANIFEST_FILE } from '../../manifest/manifest';
import { findAssetProjects, type AssetProjectInTree } from './asset-projects';
import type { AssetGeneratorSchema } from './schema';
import { commandLineWords, optionsAsWritten } from '../../nx/option-text';

/** The asset (or its name) is already there; nothing was written. */
export class AssetConflictError extends Error {
  override readonly name = 'AssetConflictError';
  constructor(
    readonly path: string,
    reason: string,
  ) {
    super(reason);
  }
}

async function assertNoConflict(tree: Tree, name: string, directory: string): Promise<void> {
  const manifestPath = posix.join(directory, ASSET_MANIFEST_FILE);
  if (tree.exists(manifestPath)) {
    throw new AssetConflictError(
      manifestPath,
      `${manifestPath} already exists; the generator does not overwrite it. Edit it, or choose another --directory.`,
    );
  }
  for (const [projectName, project] of getProjects(tree)) {
    if (projectName === name) {
      throw new AssetConflictError(project.root, `A project named "${name}" already exists (in ${project.root}); choose another name.`);
    }
    if (project.root === directory) {
      throw new AssetConflictError(
        project.root,
        `${directory} is already the root of project "${projectName}"; choose another --directory.`,
      );
    }
  }
  const sameName = (await findAssetProjects(tree)).find((asset) => asset.name === name);
  if (sameName !== undefined) {
    throw new AssetConflictError(
      sameName.manifestPath,
      `An asset named "${name}" already exists (${sameName.manifestPath}); choose another name.`,
    );
  }
}

/** The asset `--from` updates: the one named `name`, or the one in `--directory` (default `assets/<name>`). */
async function existingAsset(tree: Tree, schema: AssetGeneratorSchema): Promise<AssetProjectInTree | undefined> {
  const name = String(schema.name ?? '').trim();
  if (name === '') return undefined;
  const manifestPath = posix.join(assetDirectory(name, schema.directory), ASSET_MANIFEST_FILE);
  return (await findAssetProjects(tree)).find((asset) => asset.name === name || asset.manifestPath === manifestPath);
}

/**
 * `nx g nx-asset-images:asset <name> --image=...`: a folder with asset.json and a README.
 * With `--from=hf://<org>/<repo>[@<revision>]`: its sources are the revision's files; on an existing asset, they are updated.
 */
export async function assetGenerator(tree: Tree, schema: AssetGeneratorSchema): Promise<void> {
  const written = optionsAsWritten(schema, ['name', 'directory', 'tags', 'path'], commandLineWords(), { positional: 'name' });
  const hub = normalizeHubOptions(written);
  if (hub !== undefined) {
    const existing = await existingAsset(tree, written);
    if (existing !== undefined) {
      warnUnusedOptions(existing, written);
      await updateAssetFromHub(tree, existing, hub);
      if (!(written.skipFormat ?? false)) await formatFiles(tree);
      return;
    }
  }
  const normalized = normalizeAssetOptions(written);
  await assertNoConflict(tree, normalized.name, normalized.directory);
  const options = hub === undefined ? normalized : { ...normalized, sources: (await importFromHub(tree, hub)).sources };

  const { directory } = options;
  // The generated .gitignore is a repository file, not content: keep it out of the image.
  const exclude = options.gitignoreLargeFiles ? ['.gitignore'] : undefined;
  writeJson(tree, posix.join(directory, ASSET_MANIFEST_FILE), assetManifest({ ...options, ...(exclude ? { exclude } : {}) }));

  const readmePath = posix.join(directory, 'README.md');
  if (tree.exists(readmePath)) {
    logger.info(`${readmePath} already exists; left as it is (README.md is not part of the image unless listed in "files").`);
  } else {
    const targets = assetTargetNames(readNxJson(tree));
    tree.write(
      readmePath,
      assetReadme({
        name: options.name,
        image: options.image,
        tag: options.tags[0]!,
        sources: options.sources,
        imageTarget: targets.image,
        pushTarget: targets.push,
      }),
    );
  }

  if (options.gitignoreLargeFiles) {
    const gitignorePath = posix.join(directory, '.gitignore');
    const current = tree.exists(gitignorePath) ? tree.read(gitignorePath, 'utf-8') : null;
    const updated = addGitignoreEntries(current, assetGitignoreEntries(), ASSET_GITIGNORE_HEADING);
    if (updated !== (current ?? '')) tree.write(gitignorePath, updated);
  }

  if (!options.skipFormat) await formatFiles(tree);
}

export default assetGenerator;
