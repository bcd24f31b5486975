// Temporary folders of a spec file: made under the OS temp dir, removed together by `removeTempDirs` (register it
// with `afterAll(removeTempDirs)`). Vitest evaluates this module once per spec file, so each file has its own list.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

const dirs: string[] = [];

/** A new empty folder `<tmp>/<prefix>XXXXXX`, removed by `removeTempDirs`. */
export function tempDir(prefix = 'nxai-e2e-'): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

/** Removes every folder `tempDir` made (so far) in this spec file. */
export function removeTempDirs(): void {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}
