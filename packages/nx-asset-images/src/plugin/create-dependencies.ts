/**
 * Static edges app -> asset from the Dockerfiles of every project: a
 * reference (`FROM`, `COPY --from=`, `RUN --mount=...,from=`) whose
 * repository is an asset project's `image` becomes an edge whose
 * `sourceFile` is the Dockerfile.
 */
import { readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import type { CreateDependencies, CreateDependenciesContext, RawProjectGraphDependency } from '@nx/devkit';
import { DependencyType, logger, validateDependency } from '../nx/nx-api';
import { ASSET_MANIFEST_FILE } from '../manifest/manifest';
import { isDockerfileName } from '../dockerfile/find-image-references';
import { dockerfileRepositoryKeysCached, flushDockerfileReferences } from './dockerfile-references';
import { findAssetImagesInWorkspace, type AssetImageMap, type Warn } from '../nx/asset-images-in-workspace';
import type { AssetImagesPluginOptions } from '../nx/plugin-options';

/** Repository keys referenced by one Dockerfile; cached by the file hash Nx gives. */
const referencesByFile = new Map<string, { hash: string; keys: readonly string[] }>();

/** The repository keys of the image references in a Dockerfile, or `undefined` (after a warning) when it cannot be read. */
export function dockerfileRepositoryKeys(workspaceRoot: string, file: string, warn: Warn): readonly string[] | undefined {
  let text: string;
  try {
    text = readFileSync(join(workspaceRoot, file), 'utf8');
  } catch (error) {
    warn(`nx-asset-images: cannot read ${file}: ${error instanceof Error ? error.message : String(error)}`);
    return undefined;
  }
  try {
    return dockerfileRepositoryKeysCached(text, file, workspaceRoot);
  } catch (error) {
    warn(
      `nx-asset-images: cannot parse ${file}, its asset dependencies are left out: ${error instanceof Error ? error.message : String(error)}`,
    );
    return undefined;
  }
}

/** The edges, given the asset map; exported for tests and reuse. */
export function assetDependencies(
  context: CreateDependenciesContext,
  assets: AssetImageMap,
  warn: Warn = (m) => logger.warn(m),
): RawProjectGraphDependency[] {
  const dependencies: RawProjectGraphDependency[] = [];
  if (assets.size === 0) return dependencies;
  const seen = new Set<string>();
  const projectNames = Object.keys(context.fileMap.projectFileMap).sort();
  for (const source of projectNames) {
    for (const fileData of context.fileMap.projectFileMap[source] ?? []) {
      const file = fileData.file;
      if (!isDockerfileName(posix.basename(file))) continue;
      let keys: readonly string[] | undefined;
      const cached = referencesByFile.get(file);
      if (cached && fileData.hash && cached.hash === fileData.hash) {
        keys = cached.keys;
      } else {
        keys = dockerfileRepositoryKeys(context.workspaceRoot, file, warn);
        if (keys === undefined) continue;
        if (fileData.hash) referencesByFile.set(file, { hash: fileData.hash, keys });
      }
      for (const key of keys) {
        const target = assets.get(key)?.projectName;
        if (target === undefined || target === source) continue;
        const id = `${source}\0${target}\0${file}`;
        if (seen.has(id)) continue;
        seen.add(id);
        const dependency: RawProjectGraphDependency = { source, target, type: DependencyType.static, sourceFile: file };
        try {
          validateDependency(dependency, context);
        } catch (error) {
          warn(
            `nx-asset-images: dropping dependency ${source} -> ${target} from ${file}: ${error instanceof Error ? error.message : String(error)}`,
          );
          continue;
        }
        dependencies.push(dependency);
      }
    }
  }
  return dependencies;
}

/**
 * The projects whose files (as Nx knows them) include `<root>/asset.json`: the others
 * cannot be assets, and trying to read their manifest costs a failed read each.
 */
function projectsWithManifest(context: CreateDependenciesContext): CreateDependenciesContext['projects'] {
  const out: Record<string, CreateDependenciesContext['projects'][string]> = {};
  for (const [name, config] of Object.entries(context.projects)) {
    const root = config.root ?? name;
    const manifest = root === '.' || root === '' ? ASSET_MANIFEST_FILE : `${root}/${ASSET_MANIFEST_FILE}`;
    const files = context.fileMap.projectFileMap[name];
    if (!files || files.some((f) => f.file === manifest)) out[name] = config;
  }
  return out;
}

export const createDependencies: CreateDependencies<AssetImagesPluginOptions> = async (_options, context) => {
  const warn: Warn = (m) => logger.warn(m);
  try {
    return assetDependencies(context, findAssetImagesInWorkspace(projectsWithManifest(context), context.workspaceRoot, warn), warn);
  } finally {
    await flushDockerfileReferences(context.workspaceRoot);
  }
};
