import { join } from 'node:path';
import { firstWorkspacePath } from '../util/workspace-path';
import { resolveSourceCacheDir } from '../sources/source-cache';
import { statCacheDirOf } from '../hashing/stat-cache';

/**
 * The workspace's local content store, `.asset-images/` at the workspace root
 * (gitignored, never an Nx output):
 *   stat-cache/      per asset (by its folder): path+stat → sha256 (and single-file layer digests),
 *                    a base and a journal that a save appends what changed to (hashing/stat-cache.ts)
 *   sources/         remote sources, verified, by sha256
 *   oci/             an OCI image layout holding every built asset image
 *   layer-digests/   digests of compressed and grouped small-files layers, by what they are made of
 *   content-keys/    one folder per Nx command: the key lines the content index hook found (content-index/key-folder.ts)
 *
 * `NX_ASSET_IMAGES_STORE` moves the whole store, `NX_ASSET_IMAGES_CACHE_DIR`
 * only `sources/`. For both, an empty value means unset and a relative path is
 * taken from the workspace root (not from the directory a process runs in).
 */
export interface AssetStorePaths {
  root: string;
  /** The folder of per-asset stat cache files (see hashing/stat-cache.ts). */
  statCache: string;
  sources: string;
  ociLayout: string;
}

export const ASSET_STORE_DIR = '.asset-images';
export const STORE_DIR_ENV = 'NX_ASSET_IMAGES_STORE';

export function assetStorePaths(workspaceRoot: string, storeDir?: string, env: NodeJS.ProcessEnv = process.env): AssetStorePaths {
  const root = firstWorkspacePath(workspaceRoot, storeDir, env[STORE_DIR_ENV], ASSET_STORE_DIR)!;
  return {
    root,
    statCache: statCacheDirOf(root),
    sources: resolveSourceCacheDir({ workspaceRoot, env, defaultDir: join(root, 'sources') }),
    ociLayout: join(root, 'oci'),
  };
}
