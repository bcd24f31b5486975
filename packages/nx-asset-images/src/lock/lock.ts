/**
 * `asset.lock.json`: the committed pin of an asset, like `package-lock.json`.
 * Stable text (sorted keys, 2-space indent, trailing newline) so a changed
 * weight is a one-entry git diff.
 *
 * Version 2 pins each local file (size, sha256, mode) and the image built
 * from them: the manifest digest and, per layer, digest, diffID, size, media
 * type and the files it holds, plus the build parameters the layer bytes
 * depend on (mtime, compression, destination: the files' paths in the tar). A clone without the weights builds the same
 * image from it and fetches bytes from the registry by digest only when
 * something needs them.
 *
 * ```json
 * { "lockfileVersion": 2,
 *   "files": { "weights/model.bin": { "size": 12, "sha256": "<64 hex>", "mode": 420 } },
 *   "image": { "manifest": "sha256:…", "mediaType": "…", "mtime": 0, "compression": "none", "destination": "/",
 *              "layers": [{ "digest": "sha256:…", "diffID": "sha256:…", "size": 2560, "mediaType": "…", "files": ["weights/model.bin"] }] } }
 * ```
 * Version 1 (files with size and sha256 only) is read, and upgraded by the
 * next build that has the bytes.
 */
import { readFile } from 'node:fs/promises';
import { posix } from 'node:path';
import { AssetLockError } from '../errors/asset-errors';
import { isDigest } from '../oci/digest';
import { COMPRESSIONS, isCompression, type Compression } from '../oci/layer-codecs';

export const ASSET_LOCK_FILE = 'asset.lock.json';
export const ASSET_LOCK_VERSION = 2;

export interface AssetLockEntry {
  size: number;
  /** 64 lowercase hex characters. */
  sha256: string;
  /** Permission bits as the image holds them (0o644 or 0o755); absent in a version 1 lock. */
  mode?: number;
}

export interface AssetLockLayer {
  digest: string;
  diffID: string;
  size: number;
  mediaType: string;
  /** The local files the layer holds (paths relative to the asset folder), sorted. Remote sources are not listed. */
  files: string[];
}

export interface AssetLockImage {
  /** The image manifest's digest. */
  manifest: string;
  mediaType: string;
  /** Seconds since the epoch of every tar entry the layers were built with. */
  mtime: number;
  /** Layer compression the layers were built with (a codec's name: `none`, `gzip`, `zstd`). */
  compression: Compression;
  /** asset.json `destination` the layers were built with: the directory of the files inside the tar. */
  destination: string;
  /**
   * Where a clone without the bytes fetches the layers (`registry/repository`):
   * asset.json's image when the layers were built from the files, the earlier
   * lock's when a pinned layer was carried over from it (asset.json's image
   * changed where the weights are absent). Optional: older locks lack it.
   */
  repository?: string;
  /** asset.json `tags` the image was built with: a later build whose content differs under the same version tags warns. */
  tags?: string[];
  layers: AssetLockLayer[];
}

export interface AssetLock {
  lockfileVersion: 1 | 2;
  /** Keyed by the file's path relative to the asset folder (posix). */
  files: Record<string, AssetLockEntry>;
  /** The image the files were last built into (version 2). */
  image?: AssetLockImage;
}

export interface AssetLockChange {
  relPath: string;
  expected: AssetLockEntry;
  actual: AssetLockEntry;
}

export interface AssetLockDiff {
  /** In `actual`, not in `expected`. */
  added: string[];
  /** In `expected`, not in `actual`. */
  removed: string[];
  changed: AssetLockChange[];
}

/** Reads a lock; `undefined` when the file does not exist; `AssetLockError` naming the file when it is not a valid lock. */
export async function readAssetLock(path: string): Promise<AssetLock | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new AssetLockError(path, `cannot be read: ${(error as Error).message}`, { cause: error });
  }
  return parseAssetLock(text, path);
}

/** Parses and checks the text of a lock. */
export function parseAssetLock(text: string, file: string): AssetLock {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new AssetLockError(file, `is not valid JSON (${(error as Error).message}); delete it and rebuild to regenerate it`, {
      cause: error,
    });
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new AssetLockError(file, 'expected a JSON object with "lockfileVersion" and "files"');
  }
  const record = data as Record<string, unknown>;
  const version = record.lockfileVersion;
  if (version !== 1 && version !== 2) {
    throw new AssetLockError(file, `expected "lockfileVersion": 2 (or 1), got ${JSON.stringify(version)}`);
  }
  const files = record.files;
  if (files === null || typeof files !== 'object' || Array.isArray(files)) {
    throw new AssetLockError(file, 'expected "files" to be an object keyed by file path');
  }
  const allowed = version === 1 ? ['lockfileVersion', 'files'] : ['lockfileVersion', 'files', 'image'];
  const unknownKeys = Object.keys(record).filter((key) => !allowed.includes(key));
  if (unknownKeys.length > 0) {
    throw new AssetLockError(file, `unknown field ${JSON.stringify(unknownKeys[0])}`);
  }
  const result: Record<string, AssetLockEntry> = {};
  for (const [relPath, entry] of Object.entries(files as Record<string, unknown>)) {
    if (!isSafeRelativePath(relPath)) {
      // asset-pull writes these paths: never outside the asset folder.
      throw new AssetLockError(
        file,
        `files[${JSON.stringify(relPath)}]: expected a path inside the asset folder (relative, "/"-separated, no "..", no "\\")`,
      );
    }
    const e = entry as Partial<AssetLockEntry> | null;
    const modeOk =
      // The image holds 0644 or 0755 (layer-plan normalises), and asset-pull applies the mode: nothing else is valid.
      version === 1 ? e?.mode === undefined : e?.mode === 0o644 || e?.mode === 0o755;
    if (
      e === null ||
      typeof e !== 'object' ||
      !Number.isSafeInteger(e.size) ||
      (e.size as number) < 0 ||
      typeof e.sha256 !== 'string' ||
      !/^[0-9a-f]{64}$/.test(e.sha256) ||
      !modeOk
    ) {
      const shape =
        version === 1
          ? '{ "size": <bytes>, "sha256": "<64 lowercase hex>" }'
          : '{ "size": <bytes>, "sha256": "<64 lowercase hex>", "mode": 420 (0644) or 493 (0755) }';
      throw new AssetLockError(file, `files[${JSON.stringify(relPath)}]: expected ${shape}`);
    }
    result[relPath] =
      version === 1 ? { size: e.size as number, sha256: e.sha256 } : { size: e.size as number, sha256: e.sha256, mode: e.mode as number };
  }
  if (version === 1) return { lockfileVersion: 1, files: result };
  const image = record.image === undefined ? undefined : parseLockImage(record.image, file, result);
  return { lockfileVersion: 2, files: result, ...(image ? { image } : {}) };
}

/** `host[:port]/name[/name...]`: lower-case path components, no tag or digest. */
const TAG = /^[\w][\w.-]{0,127}$/;
const REPOSITORY = /^[A-Za-z0-9.-]+(?::[0-9]+)?(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)+$/;

function parseLockImage(value: unknown, file: string, files: Record<string, AssetLockEntry>): AssetLockImage {
  const fail = (field: string, expected: string): never => {
    throw new AssetLockError(file, `${field}: expected ${expected}`);
  };
  if (value === null || typeof value !== 'object' || Array.isArray(value)) fail('image', 'an object');
  const v = value as Record<string, unknown>;
  const unknown = Object.keys(v).find(
    (k) => !['manifest', 'mediaType', 'mtime', 'compression', 'destination', 'repository', 'tags', 'layers'].includes(k),
  );
  if (unknown !== undefined)
    fail(`image.${unknown}`, 'no such field (manifest, mediaType, mtime, compression, destination, repository, tags, layers)');
  if (!isDigest(v.manifest)) fail('image.manifest', 'a sha256 digest');
  if (typeof v.mediaType !== 'string' || v.mediaType === '') fail('image.mediaType', 'a media type');
  if (!Number.isSafeInteger(v.mtime) || (v.mtime as number) < 0) fail('image.mtime', 'seconds since the epoch');
  if (!isCompression(v.compression)) fail('image.compression', `${COMPRESSIONS.slice(0, -1).join(', ')} or ${COMPRESSIONS.at(-1)}`);
  if (typeof v.destination !== 'string' || !v.destination.startsWith('/')) fail('image.destination', 'an absolute directory');
  if (v.repository !== undefined && (typeof v.repository !== 'string' || !REPOSITORY.test(v.repository)))
    fail('image.repository', 'registry/repository, without tag or digest');
  if (v.tags !== undefined && (!Array.isArray(v.tags) || !v.tags.every((t) => typeof t === 'string' && TAG.test(t))))
    fail('image.tags', 'an array of image tags');
  if (!Array.isArray(v.layers)) fail('image.layers', 'an array');
  const layers = (v.layers as unknown[]).map((raw, i): AssetLockLayer => {
    const at = `image.layers[${i}]`;
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) fail(at, 'an object');
    const l = raw as Record<string, unknown>;
    const extra = Object.keys(l).find((k) => !['digest', 'diffID', 'size', 'mediaType', 'files'].includes(k));
    if (extra !== undefined) fail(`${at}.${extra}`, 'no such field (digest, diffID, size, mediaType, files)');
    if (!isDigest(l.digest)) fail(`${at}.digest`, 'a sha256 digest');
    if (!isDigest(l.diffID)) fail(`${at}.diffID`, 'a sha256 digest');
    if (!Number.isSafeInteger(l.size) || (l.size as number) < 0) fail(`${at}.size`, 'a size in bytes');
    if (typeof l.mediaType !== 'string' || l.mediaType === '') fail(`${at}.mediaType`, 'a media type');
    if (!Array.isArray(l.files) || !l.files.every((f) => typeof f === 'string')) fail(`${at}.files`, 'an array of file paths');
    for (const f of l.files as string[]) {
      if (!Object.prototype.hasOwnProperty.call(files, f)) fail(`${at}.files`, `paths listed in "files" ("${f}" is not)`);
    }
    return {
      digest: l.digest as string,
      diffID: l.diffID as string,
      size: l.size as number,
      mediaType: l.mediaType as string,
      files: [...(l.files as string[])],
    };
  });
  return {
    manifest: v.manifest as string,
    mediaType: v.mediaType as string,
    mtime: v.mtime as number,
    compression: v.compression as Compression,
    destination: v.destination as string,
    ...(typeof v.repository === 'string' ? { repository: v.repository } : {}),
    ...(Array.isArray(v.tags) ? { tags: [...(v.tags as string[])] } : {}),
    layers,
  };
}

/** The lock's canonical text (always version 2): keys sorted, 2-space indent, trailing newline. */
export function serializeAssetLock(lock: AssetLock): string {
  const files: Record<string, AssetLockEntry> = {};
  for (const relPath of Object.keys(lock.files).sort(comparePaths)) {
    const entry = lock.files[relPath];
    files[relPath] = { size: entry.size, sha256: entry.sha256, mode: entry.mode ?? 0o644 };
  }
  const image = lock.image
    ? {
        manifest: lock.image.manifest,
        mediaType: lock.image.mediaType,
        mtime: lock.image.mtime,
        compression: lock.image.compression,
        destination: lock.image.destination,
        ...(lock.image.repository !== undefined ? { repository: lock.image.repository } : {}),
        ...(lock.image.tags !== undefined ? { tags: [...lock.image.tags] } : {}),
        layers: lock.image.layers.map((l) => ({
          digest: l.digest,
          diffID: l.diffID,
          size: l.size,
          mediaType: l.mediaType,
          files: [...l.files].sort(comparePaths),
        })),
      }
    : undefined;
  return `${JSON.stringify({ lockfileVersion: ASSET_LOCK_VERSION, files, ...(image ? { image } : {}) }, null, 2)}\n`;
}

/** A lock from hashed files. Throws on a duplicate path. */
export function lockFromHashes(
  files: readonly { relPath: string; size: number; sha256: string; mode: number }[],
  image?: AssetLockImage,
): AssetLock {
  // Sorted first and built once: a 100,000-key object built twice (as it comes, then sorted) costs most of a no-op's lock.
  const ordered = [...files].sort((a, b) => comparePaths(a.relPath, b.relPath));
  const sorted: Record<string, AssetLockEntry> = {};
  for (const [index, file] of ordered.entries()) {
    if (index > 0 && ordered[index - 1]!.relPath === file.relPath) {
      throw new Error(`lockFromHashes: duplicate path ${JSON.stringify(file.relPath)}`);
    }
    sorted[file.relPath] = { size: file.size, sha256: file.sha256, mode: file.mode & 0o7777 };
  }
  return { lockfileVersion: 2, files: sorted, ...(image ? { image } : {}) };
}

/** What differs between the committed lock (`expected`) and the files on disk (`actual`); each list sorted by path. */
export function diffLock(expected: AssetLock, actual: AssetLock): AssetLockDiff {
  const added: string[] = [];
  const removed: string[] = [];
  const changed: AssetLockChange[] = [];
  for (const relPath of Object.keys(actual.files).sort(comparePaths)) {
    const want = expected.files[relPath];
    const have = actual.files[relPath];
    if (!Object.prototype.hasOwnProperty.call(expected.files, relPath)) added.push(relPath);
    else if (
      want.sha256 !== have.sha256 ||
      want.size !== have.size ||
      (want.mode !== undefined && have.mode !== undefined && want.mode !== have.mode)
    ) {
      changed.push({ relPath, expected: want, actual: have });
    }
  }
  for (const relPath of Object.keys(expected.files).sort(comparePaths)) {
    if (!Object.prototype.hasOwnProperty.call(actual.files, relPath)) removed.push(relPath);
  }
  return { added, removed, changed };
}

/** Whether two image pins are the same (both absent counts as the same). */
export function sameLockImage(a: AssetLockImage | undefined, b: AssetLockImage | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return (
    serializeAssetLock({ lockfileVersion: 2, files: {}, image: a }) === serializeAssetLock({ lockfileVersion: 2, files: {}, image: b })
  );
}

export function isLockDiffEmpty(diff: AssetLockDiff): boolean {
  return diff.added.length === 0 && diff.removed.length === 0 && diff.changed.length === 0;
}

/** Lines for a CI error: `+ added`, `- removed`, `~ changed (sha256 a… → b…)`. */
export function formatLockDiff(diff: AssetLockDiff): string {
  const short = (sha: string) => sha.slice(0, 12);
  return [
    ...diff.added.map((p) => `  + ${p} (not in the lock)`),
    ...diff.removed.map((p) => `  - ${p} (in the lock, no longer a file)`),
    ...diff.changed.map(
      (c) =>
        `  ~ ${c.relPath} (lock: ${c.expected.size} bytes sha256 ${short(c.expected.sha256)}${modeText(c.expected.mode)}, ` +
        `file: ${c.actual.size} bytes sha256 ${short(c.actual.sha256)}${modeText(c.actual.mode)})`,
    ),
  ].join('\n');
}

function modeText(mode: number | undefined): string {
  return mode === undefined ? '' : ` mode ${mode.toString(8).padStart(4, '0')}`;
}

/** A normalised relative posix path below the folder: what a lock key must be (it is written by asset-pull). */
export function isSafeRelativePath(relPath: string): boolean {
  return (
    relPath !== '' &&
    !relPath.includes('\\') &&
    !relPath.includes('\0') &&
    !posix.isAbsolute(relPath) &&
    !/^[A-Za-z]:/.test(relPath) &&
    posix.normalize(relPath) === relPath &&
    relPath !== '..' &&
    !relPath.startsWith('../')
  );
}

/** Byte-wise (code unit) order, the same on every machine and locale. */
function comparePaths(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
