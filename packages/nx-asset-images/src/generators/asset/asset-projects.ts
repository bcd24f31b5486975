/**
 * Asset projects as a generator sees them: folders holding asset.json in the
 * Tree (inferred projects are not in `getProjects(tree)`).
 */
import { globAsync, type Tree } from '../../nx/devkit';
import { posix } from 'node:path';
import { defaultAssetName } from '../../manifest/manifest';

export const ASSET_MANIFEST_FILE = 'asset.json';

export interface AssetProjectInTree {
  name: string;
  /** Workspace-relative folder (`.` for the root). */
  root: string;
  manifestPath: string;
  /** The parsed asset.json; `undefined` when it is not valid JSON. */
  manifest: Record<string, unknown> | undefined;
}

/** The project name the plugin gives an asset: `name`, or the folder path with `/` replaced by `-`. */
export function assetProjectName(root: string, manifest: Record<string, unknown> | undefined): string {
  const name = manifest?.['name'];
  if (typeof name === 'string' && name.length > 0) return name;
  return defaultAssetName(root);
}

export function readAssetManifest(tree: Tree, manifestPath: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(tree.read(manifestPath, 'utf-8') ?? '');
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export async function findAssetProjects(tree: Tree): Promise<AssetProjectInTree[]> {
  const paths = await globAsync(tree, [`**/${ASSET_MANIFEST_FILE}`]);
  return paths
    .filter((path) => !path.split('/').includes('node_modules'))
    .sort()
    .map((manifestPath) => {
      const root = posix.dirname(manifestPath);
      const manifest = readAssetManifest(tree, manifestPath);
      return { name: assetProjectName(root, manifest), root, manifestPath, manifest };
    });
}
