/**
 * The automatic prune after a build: the target's `gc` and `storeHistory`
 * over the plugin's (nx.json), and only when no other build, push or pull uses
 * the store (it never waits for them; they prune later).
 *
 * An asset's first build in this store makes nothing of it garbage, and a
 * prune reads every asset's history and lists the whole store: after each of
 * the first builds of many assets (`nx run-many` in a new clone) that made the
 * builds O(n²). So a first build skips the prune when one ran within
 * `FIRST_BUILD_PRUNE_INTERVAL_MS`; a rebuild always prunes (it may have pushed
 * an image out of the history). A store whose history holds this one build and
 * nothing else (a new clone's first build: never pruned, nothing built before)
 * has no garbage either: it is marked pruned without a prune (a prune's fixed
 * cost, reading every asset's manifest and lock, was ~0.5 s at 20,000 files).
 */
import { stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { assetStorePaths } from '../asset/asset-store';
import { gcSettingsFromNxJson, storeHistoryOption } from './gc-settings';
import { historyProjects, readHistory } from './store-history';
import { runStoreGc, type StoreGcOutcome } from './store-gc';

/** Touched after every automatic prune that ran: its mtime is when the store was last pruned. */
export const LAST_PRUNE_FILE = 'gc.last';

/** How long after a prune an asset's first build skips its own. */
export const FIRST_BUILD_PRUNE_INTERVAL_MS = 10 * 60 * 1000;

export interface PruneFacts {
  /** Whether the asset's history holds only this build (its first in this store). */
  firstBuild: boolean;
  /** When the store was last pruned (ms since the epoch), if known. */
  lastPruneMs: number | undefined;
  nowMs: number;
}

/** Whether the automatic prune should run after a build (gc on). */
export function shouldPruneAfterBuild(facts: PruneFacts): boolean {
  if (!facts.firstBuild || facts.lastPruneMs === undefined) return true;
  const age = facts.nowMs - facts.lastPruneMs;
  return age < 0 || age >= FIRST_BUILD_PRUNE_INTERVAL_MS;
}

/** Undefined when `gc` is off, or when this first build of `project` (its name in the build history) skips it. */
export async function pruneAfterBuild(
  workspaceRoot: string,
  options: { gc?: boolean; storeHistory?: number },
  project?: string,
  nowMs = Date.now(),
): Promise<StoreGcOutcome | undefined> {
  const settings = gcSettingsFromNxJson(workspaceRoot);
  if ((options.gc ?? settings.gc) === false) return undefined;
  const storeRoot = assetStorePaths(workspaceRoot).root;
  const marker = join(storeRoot, LAST_PRUNE_FILE);
  if (project !== undefined) {
    const firstBuild = (await readHistory(storeRoot, project)).length <= 1;
    const lastPruneMs = (await stat(marker).catch(() => undefined))?.mtimeMs;
    if (firstBuild && lastPruneMs === undefined && (await onlyProjectIs(storeRoot, project))) {
      await touch(marker, nowMs);
      return undefined;
    }
    if (!shouldPruneAfterBuild({ firstBuild, lastPruneMs, nowMs })) return undefined;
  }
  const history = storeHistoryOption(options.storeHistory) ?? settings.storeHistory;
  const outcome = await runStoreGc({ workspaceRoot, mode: 'try', ...(history !== undefined ? { history } : {}) });
  if (outcome.ran) await touch(marker, nowMs);
  return outcome;
}

/** Whether the store's history names `project` and no other asset. */
async function onlyProjectIs(storeRoot: string, project: string): Promise<boolean> {
  const projects = await historyProjects(storeRoot);
  return projects.length === 1 && projects[0] === project;
}

async function touch(file: string, nowMs: number): Promise<void> {
  const time = new Date(nowMs);
  try {
    await writeFile(file, '');
    await utimes(file, time, time);
  } catch {
    // a store we cannot mark: the next first build prunes again
  }
}
