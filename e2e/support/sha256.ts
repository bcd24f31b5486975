// sha256 as the e2e specs compare content: hex of bytes (a string as UTF-8), or of a file's bytes.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** Hex sha256 of `data` (a string is hashed as UTF-8). */
export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Hex sha256 of the file at `file`. */
export function sha256File(file: string): string {
  return sha256(readFileSync(file));
}
