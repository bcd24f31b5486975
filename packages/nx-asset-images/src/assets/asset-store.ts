import { join } from 'node:path';

/**
 * The workspace's local content store, `.asset-images/` at the workspace root
 * (gitignored, never an Nx output):
 *   stat-cache.json  path+stat → sha256 (and single-file layer digests)
 *   sources/         remote sources, verified, by sha256
 *   oci/             an OCI image layout holding every built asset image
 *   layer-digests/   digests of compressed and grouped small-files layers, by what they are made of
 */
export interface AssetStorePaths {
  root: string;
  statCache: string;
  sources: string;
  ociLayout: string;
}

export const ASSET_STORE_DIR = '.asset-images';

export function assetStorePaths(workspaceRoot: string, storeDir = process.env['NX_ASSET_IMAGES_STORE'] ?? join(workspaceRoot, ASSET_STORE_DIR)): AssetStorePaths {
  return {
    root: storeDir,
    statCache: join(storeDir, 'stat-cache.json'),
    sources: process.env['NX_ASSET_IMAGES_CACHE_DIR'] ?? join(storeDir, 'sources'),
    ociLayout: join(storeDir, 'oci'),
  };
}
