/**
 * Asset projects as a generator sees them: folders holding asset.json in the
 * Tree (inferred projects are not in `getProjects(tree)`), read with the
 * manifest reader's tolerant mode, so one broken manifest hides nothing else.
 */
import { globAsync, type Tree } from '../../nx/devkit';
import { posix } from 'node:path';
import { ASSET_MANIFEST_FILE, defaultAssetName, parseAssetManifest, type AssetManifestSummary } from '../../manifest/manifest';

export interface AssetProjectInTree {
  /** The project name the plugin gives the asset: `name`, or the folder path with `/` replaced by `-`. */
  name: string;
  /** Workspace-relative folder (`.` for the root). */
  root: string;
  manifestPath: string;
  /** What asset.json says of name, image and tags, as far as it can be read. */
  summary: AssetManifestSummary;
}

export async function findAssetProjects(tree: Tree): Promise<AssetProjectInTree[]> {
  const paths = await globAsync(tree, [`**/${ASSET_MANIFEST_FILE}`]);
  return paths
    .filter((path) => !path.split('/').includes('node_modules'))
    .sort()
    .map((manifestPath) => {
      const root = posix.dirname(manifestPath);
      const summary = parseAssetManifest(tree.read(manifestPath, 'utf-8') ?? '', manifestPath, root, { tolerant: true });
      return { name: summary.name ?? defaultAssetName(root), root, manifestPath, summary };
    });
}
