import { existsSync, readFileSync } from 'node:fs';

/** The lines `NX_ASSET_IMAGES_HASH_STATS` appended: the bytes each process read to hash asset content. */
export function hashStats(file: string): { tool: string; bytesRead: number; filesOpened: number }[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));
}
