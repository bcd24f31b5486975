/**
 * Whole reads of many small files in order, with the next few already in flight on the thread pool: a corpus
 * of small files is read at the disk's pace, not one promise round trip (~0.25 ms) at a time. Read from the
 * page cache, a file of 24 KiB costs about 15 µs this way and about 250 µs through `fs/promises.readFile`.
 */
import { readFile } from 'node:fs';

/** Files read ahead of the one asked for, by default. */
export const DEFAULT_READ_AHEAD = 16;

/**
 * `read(i)`: the bytes of `paths[i]`; asking for `i` starts the reads of the next `window` paths (an undefined
 * path is one that will not be asked for whole: skipped). Meant to be asked in order, each index once (an index
 * asked again, or out of order, is simply read then).
 */
export function readAhead(paths: readonly (string | undefined)[], window: number = DEFAULT_READ_AHEAD): (i: number) => Promise<Buffer> {
  const pending = new Map<number, Promise<Buffer>>();
  let next = 0;
  const start = (i: number): Promise<Buffer> => {
    const path = paths[i];
    if (path === undefined) return Promise.reject(new Error(`readAhead: no path at ${i}`));
    const read = new Promise<Buffer>((resolve, reject) => readFile(path, (error, data) => (error ? reject(error) : resolve(data))));
    // Observed when asked for; a read never asked for (the consumer stopped) must not be an unhandled rejection.
    read.catch(() => {});
    return read;
  };
  return (i) => {
    if (i >= next) next = Math.max(next, i);
    while (next < paths.length && next <= i + window) {
      if (paths[next] !== undefined) pending.set(next, start(next));
      next++;
    }
    const read = pending.get(i) ?? start(i);
    pending.delete(i);
    return read;
  };
}
