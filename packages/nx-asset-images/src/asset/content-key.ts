import { createHash } from 'node:crypto';
import type { Digest } from '../oci/image';
import type { AssetAnalysis } from './analyze-asset';

/**
 * The exact local content of an asset as one digest: (path, size, mode, sha256)
 * of every local file. Remote sources are pinned by asset.json, which Nx hashes
 * itself. Same content, same key, on every machine, so remote caches still hit.
 *
 * The digest is sha256 of the canonical JSON (oci/canonical-json.ts) of
 * `{ version: 1, destination, files: [[relPath, size, mode, sha256], ...] }`
 * in path order, streamed into the hash a row at a time: at 100,000 files the
 * whole document as a value and then as one string is memory a no-op does not
 * need. content-key.spec.ts holds it to the canonical JSON.
 */
export function contentKey(analysis: AssetAnalysis): Digest {
  const files: { relPath: string; size: number; mode: number; sha256: string }[] = [];
  for (const layer of analysis.layers) for (const file of layer.files) if (file.origin === 'local') files.push(file);
  files.sort((a, b) => (a.relPath < b.relPath ? -1 : 1));
  const hash = createHash('sha256');
  // Canonical key order: destination, files, version.
  hash.update(`{"destination":${JSON.stringify(analysis.manifest.destination)},"files":[`);
  for (let i = 0; i < files.length; i++) {
    const { relPath, size, mode, sha256 } = files[i]!;
    hash.update(`${i === 0 ? '' : ','}[${JSON.stringify(relPath)},${jsonNumber(size)},${jsonNumber(mode)},${JSON.stringify(sha256)}]`);
  }
  hash.update('],"version":1}');
  return `sha256:${hash.digest('hex')}`;
}

/** A number as canonical JSON writes it (which refuses what JSON cannot represent). */
function jsonNumber(value: number): string {
  if (!Number.isFinite(value)) throw new TypeError(`canonicalJson: non-finite number ${value}`);
  return JSON.stringify(value);
}
