import { canonicalJson } from '../oci/canonical-json';
import { sha256Digest } from '../oci/digest';
import type { Digest } from '../oci/image';
import type { AssetAnalysis } from './analyze-asset';

/**
 * The exact local content of an asset as one digest: (path, size, mode, sha256)
 * of every local file. Remote sources are pinned by asset.json, which Nx hashes
 * itself. Same content, same key, on every machine, so remote caches still hit.
 */
export function contentKey(analysis: AssetAnalysis): Digest {
  const files = analysis.layers
    .flatMap((layer) => layer.files)
    .filter((file) => file.origin === 'local')
    .map((file) => [file.relPath, file.size, file.mode, file.sha256])
    .sort((a, b) => (a[0]! < b[0]! ? -1 : 1));
  return sha256Digest(canonicalJson({ version: 1, destination: analysis.manifest.destination, files }));
}
