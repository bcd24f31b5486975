import { formatFiles, getProjects, logger, type Tree } from '../../nx/devkit';
import { posix } from 'node:path';
import { ASSET_MANIFEST_FILE, parseAssetManifest, type AssetManifest } from '../../manifest/manifest';
import { repositoryKey } from '../../oci/image-reference';
import { findAssetProjects, type AssetProjectInTree } from '../asset/asset-projects';
import { addCopyFrom, copyFromInstruction, newDockerfile } from './add-copy-from';
import type { UseAssetGeneratorSchema } from './schema';
import { commandLineWords, optionsAsWritten } from '../../nx/option-text';

/** A bad --project, --asset, --destination or --dockerfile. */
export class UseAssetError extends Error {
  override readonly name = 'UseAssetError';
  constructor(
    readonly option: string,
    readonly value: string | undefined,
    reason: string,
  ) {
    super(reason);
  }
}

function findAsset(tree: Tree, assets: AssetProjectInTree[], name: string): AssetProjectInTree {
  const asset = assets.find((a) => a.name === name);
  if (asset !== undefined) return asset;
  const project = getProjects(tree).get(name);
  if (project !== undefined) {
    throw new UseAssetError(
      'asset',
      name,
      `Project "${name}" is not an asset project: ${posix.join(project.root, ASSET_MANIFEST_FILE)} does not exist.`,
    );
  }
  const known = assets.map((a) => a.name).sort();
  throw new UseAssetError(
    'asset',
    name,
    `Cannot find asset project "${name}".${known.length > 0 ? ` Asset projects: ${known.join(', ')}.` : ' The workspace has no asset.json.'}`,
  );
}

function findAppRoot(tree: Tree, assets: AssetProjectInTree[], name: string): string {
  const project = getProjects(tree).get(name);
  if (project !== undefined) return project.root;
  if (assets.some((a) => a.name === name)) {
    throw new UseAssetError('project', name, `"${name}" is an asset project; --project must be the app whose Dockerfile takes the asset.`);
  }
  throw new UseAssetError('project', name, `Cannot find project "${name}".`);
}

function checkDestination(destination: string): string {
  if (!destination.startsWith('/') || /\s/.test(destination) || destination.split('/').includes('..')) {
    throw new UseAssetError(
      'destination',
      destination,
      `--destination must be an absolute directory inside the image without spaces or "..", got "${destination}".`,
    );
  }
  return destination;
}

function checkDockerfilePath(dockerfile: string): string {
  const path = posix.normalize(dockerfile.replace(/\\/g, '/'));
  if (path.startsWith('/') || path === '..' || path.startsWith('../')) {
    throw new UseAssetError('dockerfile', dockerfile, `--dockerfile must be a path inside the project, got "${dockerfile}".`);
  }
  return path;
}

/** `nx g nx-asset-images:use-asset --project=<app> --asset=<asset>`: the app image takes the asset with COPY --from. */
export async function useAssetGenerator(tree: Tree, schema: UseAssetGeneratorSchema): Promise<void> {
  const options = optionsAsWritten(schema, ['project', 'asset', 'destination', 'dockerfile'], commandLineWords());
  const assets = await findAssetProjects(tree);
  const asset = findAsset(tree, assets, options.asset);
  const appRoot = findAppRoot(tree, assets, options.project);
  const manifest: AssetManifest = parseAssetManifest(tree.read(asset.manifestPath, 'utf-8') ?? '', asset.manifestPath, asset.root);
  const tag = manifest.tags[0] ?? 'latest';
  const destination = checkDestination(options.destination ?? `/assets/${manifest.name.replace(/^@/, '').replace(/\//g, '-')}`);
  const dockerfilePath = posix.join(appRoot, checkDockerfilePath(options.dockerfile ?? 'Dockerfile'));

  if (!tree.exists(dockerfilePath)) {
    tree.write(dockerfilePath, newDockerfile(copyFromInstruction(manifest.image, tag, manifest.destination, destination)));
    logger.info(`Created ${dockerfilePath} (base image: ARG BASE_IMAGE=python:3.12-slim; change it to the runtime of ${options.project}).`);
  } else {
    const assetRepositoryKeys = new Set(assets.flatMap((a) => (a.summary.ok ? [repositoryKey(a.summary.reference)] : [])));
    const result = addCopyFrom({
      text: tree.read(dockerfilePath, 'utf-8')!,
      fileName: dockerfilePath,
      image: manifest.image,
      tag,
      source: manifest.destination,
      destination,
      assetRepositoryKeys,
    });
    if (result.status === 'present') {
      if (result.sameTag) {
        logger.info(`${dockerfilePath}:${result.line} already copies from ${result.existing}; nothing to do.`);
      } else {
        logger.warn(
          `${dockerfilePath}:${result.line} already copies from ${result.existing}, not ${manifest.image}:${tag} (the first tag in ${asset.manifestPath}). ` +
            'Left as it is; change that line if the app should take another version.',
        );
      }
    } else {
      tree.write(dockerfilePath, result.text);
      logger.info(`${dockerfilePath}:${result.line}: ${result.instruction}`);
    }
  }

  if (!options.skipFormat) await formatFiles(tree);
}

export default useAssetGenerator;
