/**
 * Where `nx-asset-images gc` runs and with which history: the workspace root
 * is the nearest directory up from cwd holding nx.json; `storeHistory` and
 * `gc` come from the plugin's entry in nx.json's `plugins` (read as plain
 * JSON: the CLI does not load Nx).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { isPluginSpecifier } from '../workspace/workspace-facts';

export interface StoreGcSettings {
  storeHistory?: number;
  gc?: boolean;
}

export function findWorkspaceRoot(from: string): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'nx.json'))) return dir;
    if (dirname(dir) === dir) return undefined;
  }
}

/** A whole number of 0 or more, else undefined (the default applies). */
export function storeHistoryOption(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : undefined;
}

export function gcSettingsFromNxJson(workspaceRoot: string): StoreGcSettings {
  try {
    const nxJson = JSON.parse(readFileSync(join(workspaceRoot, 'nx.json'), 'utf8')) as { plugins?: unknown[] };
    for (const entry of nxJson.plugins ?? []) {
      if (typeof entry !== 'object' || entry === null) continue;
      const { plugin, options } = entry as { plugin?: unknown; options?: { storeHistory?: unknown; gc?: unknown } };
      if (!isPluginSpecifier(plugin)) continue;
      const history = storeHistoryOption(options?.storeHistory);
      return {
        ...(history !== undefined ? { storeHistory: history } : {}),
        ...(typeof options?.gc === 'boolean' ? { gc: options.gc } : {}),
      };
    }
  } catch {
    // no readable nx.json: defaults
  }
  return {};
}
