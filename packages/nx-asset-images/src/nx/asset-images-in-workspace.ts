/**
 * Which image repositories belong to asset projects: the lookup behind the
 * app -> asset edges and the inferred docker-build dependencies.
 *
 * Reads `asset.json` with the manifest reader's tolerant mode (only `name`,
 * `image`, `tags`): the graph must build even when a manifest is broken, so a
 * broken file is skipped with a warning naming it; the strict mode reports it
 * properly when the asset is built.
 */
import { join, posix } from 'node:path';
import type { ProjectConfiguration } from '@nx/devkit';
import { readFileTextMemo } from './file-text-memo';
import { logger } from './nx-api';
import { ASSET_MANIFEST_FILE, defaultAssetName, parseAssetManifest, type AssetManifestSummary } from '../manifest/manifest';
import { repositoryKey, type ImageReference } from '../oci/image-reference';

export interface AssetImage {
  /** Nx project name of the asset. */
  projectName: string;
  /** Asset folder, relative to the workspace root (posix). */
  root: string;
  /** `image` as written in `asset.json`. */
  image: string;
  reference: ImageReference;
  tags: string[];
}

/** `repositoryKey(image)` -> asset. */
export type AssetImageMap = ReadonlyMap<string, AssetImage>;

export type Warn = (message: string) => void;

function readManifestFile(workspaceRoot: string, root: string, warn: Warn): AssetManifestSummary | undefined {
  const file = posix.join(root, ASSET_MANIFEST_FILE);
  let text: string;
  try {
    text = readFileTextMemo(join(workspaceRoot, file));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    warn(
      `nx-asset-images: cannot read ${file}: ${error instanceof Error ? error.message : String(error)}; its image is not matched in Dockerfiles`,
    );
    return undefined;
  }
  const result = parseAssetManifest(text, file, root, { tolerant: true });
  if (!result.ok) warn(`nx-asset-images: skipping ${file}: ${result.reason}; its image is not matched in Dockerfiles`);
  return result;
}

function addAsset(map: Map<string, AssetImage>, asset: AssetImage, warn: Warn): void {
  const key = repositoryKey(asset.reference);
  const existing = map.get(key);
  if (existing && existing.projectName !== asset.projectName) {
    warn(
      `nx-asset-images: assets "${existing.projectName}" and "${asset.projectName}" both use image ${key}; Dockerfile references go to "${existing.projectName}"`,
    );
    return;
  }
  map.set(key, asset);
}

/**
 * The asset projects among `projects` (keyed by project name, as in
 * `CreateDependenciesContext.projects`, or by root): those whose root holds
 * an `asset.json`. The project name is the graph's name when known.
 */
export function findAssetImagesInWorkspace(
  projects: Readonly<Record<string, ProjectConfiguration>>,
  workspaceRoot: string,
  warn: Warn = (m) => logger.warn(m),
): AssetImageMap {
  const map = new Map<string, AssetImage>();
  const entries = Object.entries(projects).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [key, config] of entries) {
    const root = config.root ?? key;
    const manifest = readManifestFile(workspaceRoot, root, warn);
    if (!manifest?.ok) continue;
    const projectName = config.name ?? (key !== root ? key : (manifest.name ?? defaultAssetName(root)));
    addAsset(map, { projectName, root, image: manifest.image, reference: manifest.reference, tags: manifest.tags }, warn);
  }
  return map;
}

/**
 * The same map from a list of `asset.json` paths (relative to the workspace
 * root), for createNodes where the project graph does not exist yet: names
 * come from the manifest (`name`, or the folder path with `/` -> `-`).
 */
export function assetImagesFromManifestFiles(
  manifestFiles: readonly string[],
  workspaceRoot: string,
  warn: Warn = (m) => logger.warn(m),
): AssetImageMap {
  const map = new Map<string, AssetImage>();
  for (const file of [...manifestFiles].sort()) {
    const root = posix.dirname(file.split('\\').join('/'));
    const manifest = readManifestFile(workspaceRoot, root, warn);
    if (!manifest?.ok) continue;
    const projectName = manifest.name ?? defaultAssetName(root);
    addAsset(map, { projectName, root, image: manifest.image, reference: manifest.reference, tags: manifest.tags }, warn);
  }
  return map;
}
