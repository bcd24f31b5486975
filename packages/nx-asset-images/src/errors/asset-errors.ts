/**
 * Errors of the asset core. Each names the file it is about and carries the
 * data a caller needs to report or act on it; wrapped errors keep `cause`.
 */

function describeReceived(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  const type = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
  try {
    const json = JSON.stringify(value);
    const text = type === 'null' ? 'null' : `${type} ${json}`;
    return text.length > 80 ? `${text.slice(0, 77)}...` : text;
  } catch {
    return String(value);
  }
}

/** A bad `asset.json`: the file, the field (JSON path like `sources[1].sha256`, empty for the whole document), what was expected and what was found. */
export class AssetManifestError extends Error {
  override readonly name = 'AssetManifestError';
  constructor(
    readonly file: string,
    readonly field: string,
    readonly expected: string,
    readonly received?: unknown,
    options?: { cause?: unknown },
  ) {
    const where = field === '' ? '' : ` field "${field}":`;
    const got = received !== undefined ? `, got ${describeReceived(received)}` : '';
    super(`${file}:${where} expected ${expected}${got}`, options?.cause !== undefined ? { cause: options.cause } : undefined);
  }
}

/** The file set of an asset cannot be resolved: a glob matching nothing, a symlink leaving the asset folder, a source colliding with a local file. */
export class AssetFilesError extends Error {
  override readonly name = 'AssetFilesError';
  constructor(
    /** The `asset.json` the problem belongs to. */
    readonly file: string,
    /** The manifest field involved (`files[2]`, `sources[0].path`), or empty. */
    readonly field: string,
    /** The path (relative to the asset folder) or glob involved. */
    readonly path: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`${file}:${field ? ` field "${field}":` : ''} ${JSON.stringify(path)} ${reason}`, options);
  }
}

/** An `asset.lock.json` that cannot be read or does not have the expected shape. */
export class AssetLockError extends Error {
  override readonly name = 'AssetLockError';
  constructor(
    readonly file: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`${file}: ${reason}`, options);
  }
}

/** A file could not be hashed (unreadable, or it kept changing while being read). */
export class AssetHashError extends Error {
  override readonly name = 'AssetHashError';
  constructor(
    readonly path: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`${path}: ${reason}`, options);
  }
}

/**
 * Files the lock pins that this clone lacks (missing, or a Git LFS pointer in
 * their place) are needed and cannot be had: their layer is not pinned by the
 * lock (a version 1 lock, other build parameters, a layer whose other files
 * changed), or their bytes are not in the registry. `files` are relative to
 * the asset folder; the message says what to run.
 */
export class AssetAbsentFilesError extends Error {
  override readonly name = 'AssetAbsentFilesError';
  constructor(
    /** The `asset.lock.json` that pins the files. */
    readonly file: string,
    readonly files: readonly string[],
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(
      `${file}: ${files.map((f) => JSON.stringify(f)).join(', ')} ${files.length === 1 ? 'is' : 'are'} not in this clone: ${reason}`,
      options,
    );
  }
}
