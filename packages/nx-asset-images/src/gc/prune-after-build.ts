/**
 * The automatic prune after a build: the target's `gc` and `storeHistory`
 * over the plugin's (nx.json), and only when no other build, push or pull uses
 * the store (it never waits for them; they prune later).
 */
import { gcSettingsFromNxJson, storeHistoryOption } from './gc-settings';
import { runStoreGc, type StoreGcOutcome } from './store-gc';

/** Undefined when `gc` is off. */
export async function pruneAfterBuild(
  workspaceRoot: string,
  options: { gc?: boolean; storeHistory?: number },
): Promise<StoreGcOutcome | undefined> {
  const settings = gcSettingsFromNxJson(workspaceRoot);
  if ((options.gc ?? settings.gc) === false) return undefined;
  const history = storeHistoryOption(options.storeHistory) ?? settings.storeHistory;
  return runStoreGc({ workspaceRoot, mode: 'try', ...(history !== undefined ? { history } : {}) });
}
