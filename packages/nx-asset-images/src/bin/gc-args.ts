/**
 * The flags of `nx-asset-images gc`, parsed with node:util parseArgs: a bad
 * flag or value is a `UsageError` (the CLI prints the usage and exits 2).
 */
import { parseArgs } from 'node:util';

export interface GcArgs {
  dryRun: boolean;
  /** Undefined: the option in nx.json, else the default. */
  history?: number;
  docker: boolean;
  timeoutMs?: number;
}

export const GC_USAGE = `usage: nx-asset-images gc [--dry-run] [--history N] [--no-docker] [--timeout SECONDS]
  Prunes the workspace's .asset-images store: keeps what current results (dist/asset-images/*/image.json),
  locks and each asset's last N builds name (N: --history, else storeHistory in nx.json, else 2),
  removes the rest and the plugin's own Docker content tags of older builds.
  --dry-run          print what would be freed; remove nothing
  --history N        earlier builds kept per asset besides the current one (0 or more)
  --no-docker        leave the Docker engine's tags alone
  --timeout SECONDS  give up when builds still use the store after this long (default: wait)`;

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

function nonNegativeInteger(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new UsageError(`${flag} wants a whole number of 0 or more, not "${value}"`);
  return Number(value);
}

export function parseGcArgs(argv: readonly string[]): GcArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        'dry-run': { type: 'boolean', default: false },
        history: { type: 'string' },
        docker: { type: 'boolean', default: true },
        'no-docker': { type: 'boolean', default: false },
        timeout: { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (error) {
    throw new UsageError((error as Error).message, { cause: error });
  }
  const { values } = parsed;
  const history = nonNegativeInteger('--history', values.history);
  const timeout = nonNegativeInteger('--timeout', values.timeout);
  return {
    dryRun: values['dry-run'] === true,
    docker: values.docker !== false && values['no-docker'] !== true,
    ...(history !== undefined ? { history } : {}),
    ...(timeout !== undefined ? { timeoutMs: timeout * 1000 } : {}),
  };
}
