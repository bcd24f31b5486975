import type { Readable } from 'node:stream';

/** A file to put in a tar: its in-image path (relative, `/`-separated, no leading slash), source mode, size and content. */
export interface TarFileEntry {
  path: string;
  /** Source file mode; only the executable bits matter (any set: 0755, none: 0644). */
  mode: number;
  size: number;
  /** A new stream of exactly `size` bytes. */
  open(): Readable;
  /** The whole content at once, used instead of `open` for small entries (a stream per file of a corpus costs more than its bytes). */
  read?(): Promise<Buffer>;
}

export interface TarOptions {
  /** Modification time of every entry, in seconds since the epoch (from `SOURCE_DATE_EPOCH`). Default 0. */
  mtime?: number;
}

/** One record of a normalised archive: directories are implied by file paths, emitted once before their children. */
export type TarRecord =
  { type: 'directory'; path: string; mode: 0o755 } | { type: 'file'; path: string; mode: 0o644 | 0o755; size: number; entry: TarFileEntry };

export class InvalidTarPathError extends Error {
  override readonly name = 'InvalidTarPathError';
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`Invalid path in image layer ${JSON.stringify(path)}: ${reason}`);
  }
}

export class DuplicateTarPathError extends Error {
  override readonly name = 'DuplicateTarPathError';
  constructor(readonly path: string) {
    super(`Path appears twice in one image layer: ${JSON.stringify(path)}`);
  }
}

/** Normalised file mode: 0755 when the source has any executable bit, else 0644. */
export function normalizeFileMode(mode: number): 0o644 | 0o755 {
  return (mode & 0o111) !== 0 ? 0o755 : 0o644;
}

export function validateTarPath(path: string): void {
  if (path.length === 0) throw new InvalidTarPathError(path, 'empty');
  if (path.startsWith('/')) throw new InvalidTarPathError(path, 'must be relative (no leading slash)');
  if (path.includes('\\')) throw new InvalidTarPathError(path, 'must use forward slashes');
  if (path.includes('\0')) throw new InvalidTarPathError(path, 'contains NUL');
  for (const segment of path.split('/')) {
    if (segment === '') throw new InvalidTarPathError(path, 'empty path segment');
    if (segment === '.' || segment === '..') throw new InvalidTarPathError(path, `segment "${segment}" not allowed`);
  }
}

/** Byte-wise (UTF-8) order: independent of locale and of JavaScript's UTF-16 ordering. */
function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/**
 * Validates entries, adds their parent directories and sorts everything by
 * path. A parent's path is a prefix of its children's, so the sort puts it
 * first.
 */
export function normalizeTarEntries(entries: readonly TarFileEntry[]): TarRecord[] {
  const files = new Map<string, TarFileEntry>();
  const directories = new Set<string>();
  for (const entry of entries) {
    validateTarPath(entry.path);
    if (files.has(entry.path)) throw new DuplicateTarPathError(entry.path);
    if (!Number.isSafeInteger(entry.size) || entry.size < 0) throw new InvalidTarPathError(entry.path, `invalid size ${entry.size}`);
    files.set(entry.path, entry);
    const segments = entry.path.split('/');
    for (let i = 1; i < segments.length; i++) directories.add(segments.slice(0, i).join('/'));
  }
  for (const directory of directories) {
    if (files.has(directory)) throw new InvalidTarPathError(directory, 'is both a file and a directory');
  }
  const records: TarRecord[] = [
    ...[...directories].map((path): TarRecord => ({ type: 'directory', path, mode: 0o755 })),
    ...[...files.values()].map((entry): TarRecord => ({
      type: 'file',
      path: entry.path,
      mode: normalizeFileMode(entry.mode),
      size: entry.size,
      entry,
    })),
  ];
  return records.sort((a, b) => compareUtf8(a.path, b.path));
}

/** Parses `SOURCE_DATE_EPOCH` (decimal seconds); undefined or empty gives 0. */
export function parseSourceDateEpoch(value: string | undefined): number {
  if (value === undefined || value.trim() === '') return 0;
  if (!/^\d+$/.test(value.trim())) throw new InvalidSourceDateEpochError(value);
  return Number(value.trim());
}

export class InvalidSourceDateEpochError extends Error {
  override readonly name = 'InvalidSourceDateEpochError';
  constructor(readonly value: string) {
    super(`SOURCE_DATE_EPOCH must be a whole number of seconds, got ${JSON.stringify(value)}`);
  }
}
