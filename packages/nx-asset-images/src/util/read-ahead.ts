/**
 * Whole reads of many small files in order, with the next few already in flight on the thread pool: a corpus
 * of small files is read at the disk's pace, not one promise round trip at a time.
 *
 * Each read is one thread-pool round trip: the file is opened and closed synchronously (its inode is cached:
 * the scan has just stat'ed it) and only the read, the part that may wait on the disk, goes to the pool, for
 * the size the scan gave plus one byte (to see growth). `fs.readFile` takes four round trips (open, fstat,
 * read, close). Measured on 20,000 files of 24 KiB (469 MiB) read and hashed, 16 in flight: page cache warm
 * 1.09 s against 1.75-2.24 s with `fs.readFile` (0.91 s all synchronous); dropped 1.95-2.01 s against
 * 2.37-2.78 s (4.63 s all synchronous, which waits for one read at a time).
 */
import { closeSync, openSync, read, readFile } from 'node:fs';

/** Files read ahead of the one asked for, by default. */
export const DEFAULT_READ_AHEAD = 16;

/** A file to read whole, and its size as scanned. */
export interface ReadAheadFile {
  path: string;
  size: number;
}

/**
 * `read(i)`: the bytes of `files[i]`; asking for `i` starts the reads of the next `window` files (an undefined
 * file is one that will not be asked for whole: skipped). Meant to be asked in order, each index once (an index
 * asked again, or out of order, is simply read then). A file that is no longer its scanned size is read as it
 * is now: the caller's checks of size and stat decide.
 */
export function readAhead(
  files: readonly (ReadAheadFile | undefined)[],
  window: number = DEFAULT_READ_AHEAD,
): (i: number) => Promise<Buffer> {
  const pending = new Map<number, Promise<Buffer>>();
  let next = 0;
  const start = (i: number): Promise<Buffer> => {
    const file = files[i];
    const result = file === undefined ? Promise.reject(new Error(`readAhead: no file at ${i}`)) : readWhole(file);
    // Observed when asked for; a read never asked for (the consumer stopped) must not be an unhandled rejection.
    result.catch(() => {});
    return result;
  };
  return (i) => {
    if (i >= next) next = Math.max(next, i);
    while (next < files.length && next <= i + window) {
      if (files[next] !== undefined) pending.set(next, start(next));
      next++;
    }
    const result = pending.get(i) ?? start(i);
    pending.delete(i);
    return result;
  };
}

/** The file's bytes in one pooled read of its expected size (+1); a file that grew is read again whole. */
export function readWhole({ path, size }: ReadAheadFile): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (error) {
      reject(error as Error);
      return;
    }
    const buffer = Buffer.allocUnsafe(size + 1);
    read(fd, buffer, 0, size + 1, 0, (error, bytesRead) => {
      try {
        closeSync(fd);
      } catch {
        // closing a file only read: nothing was written that could be lost
      }
      if (error) reject(error);
      else if (bytesRead <= size) resolve(buffer.subarray(0, bytesRead));
      else readFile(path, (again, data) => (again ? reject(again) : resolve(data)));
    });
  });
}
