#!/usr/bin/env node
/**
 * Nx runtime input of the `asset-image` target when the content index hook has
 * not set the asset's key (an agent where `preTasksExecution` does not run, or
 * an asset whose content changed): prints one line that changes exactly when
 * the asset's local content changes (content-index/content-key-line.ts). Run
 * by Nx from the workspace root with the asset's folder as argument.
 */
import { contentKeyLine } from '../content-index/content-key-line';
import { recordHashStats } from '../hashing/hash-stats';

if (require.main === module) {
  const projectRoot = process.argv[2];
  if (!projectRoot) {
    process.stderr.write('usage: asset-content-key <asset folder relative to the workspace root>\n');
    process.exit(2);
  }
  const threshold = process.argv[3] ? Number(process.argv[3]) : undefined;
  contentKeyLine(process.cwd(), projectRoot, threshold).then((line) => {
    process.stdout.write(`${line}\n`);
    // One line per run (NX_ASSET_IMAGES_HASH_STATS), answered from the index row or not: tests tell when the script ran.
    recordHashStats('asset-content-key');
  });
}
