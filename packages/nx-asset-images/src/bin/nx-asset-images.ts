#!/usr/bin/env node
/**
 * The package's command line: `npx nx-asset-images gc [--dry-run] [--history N] [--no-docker] [--timeout S]`,
 * run anywhere inside a workspace (its root is the nearest nx.json up from cwd).
 * Exit 0 when done, 1 when gc failed, 2 for a usage error.
 */
import { formatGcReport } from '../gc/gc-report';
import { findWorkspaceRoot, gcSettingsFromNxJson } from '../gc/gc-settings';
import { runStoreGc } from '../gc/store-gc';
import { GC_USAGE, parseGcArgs, UsageError } from './gc-args';

export async function main(argv: readonly string[], out: (line: string) => void, err: (line: string) => void): Promise<number> {
  const [command, ...rest] = argv;
  if (command === '--help' || command === '-h' || command === 'help') {
    out(GC_USAGE);
    return 0;
  }
  if (command !== 'gc') {
    err(command === undefined ? GC_USAGE : `unknown command "${command}"\n${GC_USAGE}`);
    return 2;
  }
  let args;
  try {
    args = parseGcArgs(rest);
  } catch (error) {
    if (error instanceof UsageError) {
      err(`${error.message}\n${GC_USAGE}`);
      return 2;
    }
    throw error;
  }
  const workspaceRoot = findWorkspaceRoot(process.cwd());
  if (!workspaceRoot) {
    err('nx-asset-images gc: no nx.json in this directory or above it; run it inside an Nx workspace');
    return 2;
  }
  const history = args.history ?? gcSettingsFromNxJson(workspaceRoot).storeHistory;
  try {
    const outcome = await runStoreGc({
      workspaceRoot,
      dryRun: args.dryRun,
      docker: args.docker,
      mode: 'wait',
      ...(history !== undefined ? { history } : {}),
      ...(args.timeoutMs !== undefined ? { timeoutMs: args.timeoutMs } : {}),
      onWait: (leases) => out(`nx-asset-images gc: waiting for ${leases.length} running build(s) or push(es) to finish...`),
    });
    if (outcome.ran) for (const line of formatGcReport(outcome.report)) out(line);
    return 0;
  } catch (error) {
    err(`nx-asset-images gc: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

if (require.main === module) {
  main(
    process.argv.slice(2),
    (line) => process.stdout.write(`${line}\n`),
    (line) => process.stderr.write(`${line}\n`),
  ).then((code) => {
    process.exitCode = code;
  });
}
