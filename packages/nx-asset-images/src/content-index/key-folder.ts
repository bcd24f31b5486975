/**
 * One Nx command's key folder: what the content index hook found, one small
 * file per indexed asset (named by `contentKeyFileName`) holding its key line.
 * The hook hands the folder to the runtime inputs in one variable
 * (`CONTENT_KEYS_ENV`); a variable per asset made Nx copy and convert a
 * thousand variables for every task it hashed (1,000 assets: 2.3 s → 13 s for
 * cached trivial targets, measured).
 *
 * The folder appears whole (written under a temp name, then renamed), so a
 * runtime input never reads a half-written set. Folders are pruned by the age
 * in their name: one that is gone only costs its command the key script, never
 * a wrong key.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempPathFor, tempTargetName } from '../util/atomic-write';

/** The folder of key folders in the store. */
export const KEY_FOLDERS_DIR = 'content-keys';

/** A key folder older than this is removed by the next hook that writes one. Nx hashes a command's tasks at its start. */
export const KEY_FOLDER_MAX_AGE_MS = 60 * 60 * 1000;

export function keyFoldersDirOf(storeRoot: string): string {
  return join(storeRoot, KEY_FOLDERS_DIR);
}

/** Writes `lines` (file name → key line) as a new key folder under `parent`; returns its absolute path. */
export async function writeKeyFolder(parent: string, lines: ReadonlyMap<string, string>, nowMs = Date.now()): Promise<string> {
  const folder = join(parent, `${nowMs}-${process.pid}-${randomBytes(4).toString('hex')}`);
  const temp = tempPathFor(folder);
  await mkdir(temp, { recursive: true });
  try {
    await Promise.all([...lines].map(([file, line]) => writeFile(join(temp, file), `${line}\n`)));
    await rename(temp, folder);
  } catch (error) {
    await rm(temp, { recursive: true, force: true });
    throw error;
  }
  return folder;
}

/** When the folder or temp folder `name` was made (ms), or undefined for a name that is not one of ours. */
export function keyFolderTime(name: string): number | undefined {
  const match = /^(\d{13,})-\d+-[0-9a-f]{8}$/.exec(tempTargetName(name) ?? name);
  return match ? Number(match[1]) : undefined;
}

/** Removes the key folders under `parent` made more than `maxAgeMs` before `nowMs`; returns how many. Never throws. */
export async function pruneKeyFolders(parent: string, nowMs = Date.now(), maxAgeMs = KEY_FOLDER_MAX_AGE_MS): Promise<number> {
  let names: string[];
  try {
    names = await readdir(parent);
  } catch {
    return 0;
  }
  const old = names.filter((name) => {
    const time = keyFolderTime(name);
    return time !== undefined && nowMs - time > maxAgeMs;
  });
  await Promise.all(old.map((name) => rm(join(parent, name), { recursive: true, force: true }).catch(() => undefined)));
  return old.length;
}
