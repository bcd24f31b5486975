import { formatBytes } from '../util/format-bytes';
import type { GcKind, StoreGcReport } from './store-gc';

/** What gc freed (or, dry, would free), one line per kind that had anything, then the total. */
export function formatGcReport(report: StoreGcReport): string[] {
  const verb = report.dryRun ? 'would free' : 'freed';
  const lines: string[] = [];
  let total = 0;
  for (const [kind, freed] of Object.entries(report.freed) as [GcKind, { count: number; bytes: number }][]) {
    total += freed.bytes;
    if (freed.count === 0) continue;
    lines.push(`  ${kind}: ${freed.count}${freed.bytes > 0 ? ` (${formatBytes(freed.bytes)})` : ''}`);
  }
  for (const reference of report.dockerTags) lines.push(`  docker tag ${reference}`);
  lines.unshift(`nx-asset-images gc: ${verb} ${formatBytes(total)}${lines.length === 0 ? ' (nothing to remove)' : ''}`);
  for (const warning of report.warnings) lines.push(`  warning: ${warning}`);
  return lines;
}
