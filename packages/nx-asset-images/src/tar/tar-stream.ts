import { Readable } from 'node:stream';
import { BLOCK_SIZE, END_OF_ARCHIVE, encodeEntryHeader, paddingFor } from './tar-header';
import { normalizeTarEntries, type TarFileEntry, type TarOptions, type TarRecord } from './tar-entries';

/** A source produced a different number of bytes than its entry declared (e.g. the file changed while being read). */
export class TarEntrySizeMismatchError extends Error {
  override readonly name = 'TarEntrySizeMismatchError';
  constructor(
    readonly path: string,
    readonly expected: number,
    readonly actual: number,
  ) {
    super(
      `${path}: expected ${expected} bytes, read ${actual}${actual > expected ? ' or more' : ''} (did the file change while being read?)`,
    );
  }
}

/** The exact size of the archive `tarStream(entries, options)` produces. */
export function tarSize(entries: readonly TarFileEntry[], options: TarOptions = {}): number {
  return tarLayout(entries, options).size;
}

/** An archive's size and its chunks, its headers encoded once for both (a corpus group has thousands). */
export interface TarLayout {
  size: number;
  /** The chunks of `tarStream(entries, options)`; each call starts over. */
  chunks(): AsyncGenerator<Buffer>;
}

export function tarLayout(entries: readonly TarFileEntry[], options: TarOptions = {}): TarLayout {
  const records = normalizeTarEntries(entries);
  const mtime = options.mtime ?? 0;
  const headers = records.map((record) => headerFor(record, mtime));
  let size = END_OF_ARCHIVE.length;
  records.forEach((record, i) => {
    size += headers[i]!.length;
    if (record.type === 'file') size += record.size + paddingFor(record.size);
  });
  return { size, chunks: () => generateTar(records, headers) };
}

/**
 * A reproducible tar of `entries`: sorted by path, parent directories first,
 * uid/gid 0, no user/group names, modes 0644/0755, one fixed mtime.
 * Streams each entry's content in turn (never buffering an entry whole).
 */
export function tarStream(entries: readonly TarFileEntry[], options: TarOptions = {}): Readable {
  return Readable.from(tarChunks(entries, options), { objectMode: false });
}

/** The chunks of `tarStream(entries, options)` as an async iterable, for a consumer that takes one (no stream between). */
export function tarChunks(entries: readonly TarFileEntry[], options: TarOptions = {}): AsyncGenerator<Buffer> {
  return tarLayout(entries, options).chunks();
}

async function* generateTar(records: readonly TarRecord[], headers: readonly Buffer[]): AsyncGenerator<Buffer> {
  for (const [i, record] of records.entries()) {
    yield headers[i]!;
    if (record.type === 'file') {
      if (record.entry.read && record.size <= WHOLE_READ_MAX_BYTES) {
        const bytes = await record.entry.read();
        if (bytes.length !== record.size) throw new TarEntrySizeMismatchError(record.path, record.size, bytes.length);
        yield bytes;
      } else yield* streamExactly(record.path, record.size, record.entry.open());
      const padding = paddingFor(record.size);
      if (padding > 0) yield ZEROS.subarray(0, padding);
    }
  }
  yield END_OF_ARCHIVE;
}

/** Padding is a slice of this (never written to): no allocation per entry. */
const ZEROS = Buffer.alloc(BLOCK_SIZE);

/** Entries up to this size are read whole when they can be (`TarFileEntry.read`); bigger ones are streamed (`open`). */
export const WHOLE_READ_MAX_BYTES = 256 * 1024;

export function headerFor(record: TarRecord, mtime: number): Buffer {
  return encodeEntryHeader({
    path: record.path,
    type: record.type,
    mode: record.mode,
    size: record.type === 'file' ? record.size : 0,
    mtime,
  });
}

/** Yields the source's chunks, failing if it produces more or fewer than `size` bytes. */
export async function* streamExactly(path: string, size: number, source: Readable): AsyncGenerator<Buffer> {
  let seen = 0;
  try {
    for await (const chunk of source) {
      const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
      seen += buffer.length;
      if (seen > size) throw new TarEntrySizeMismatchError(path, size, seen);
      yield buffer;
    }
  } finally {
    source.destroy();
  }
  if (seen !== size) throw new TarEntrySizeMismatchError(path, size, seen);
}
