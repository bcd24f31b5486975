#!/usr/bin/env node
/**
 * Nx runtime input of the `asset-image` target: prints one line that changes
 * exactly when the asset's local content changes. Run by Nx from the workspace
 * root with the asset's folder as argument. Hashes come from the stat cache, so
 * unchanged files are only stat'ed; a changed file is read once, and the layer
 * digest is computed in the same read for the build that follows.
 */
import { randomUUID } from 'node:crypto';
import { posix } from 'node:path';
import { prepareAsset } from '../assembly/prepare-asset';
import { assetBuildOptions } from '../asset/build-options';
import { contentKey } from '../asset/content-key';
import { sha256Digest } from '../oci/digest';

// The builder's version is part of the key: a new release may lay out images differently.
const PLUGIN_VERSION = `nx-asset-images@${(require('../../package.json') as { version: string }).version}`;

export async function assetContentKeyLine(workspaceRoot: string, projectRoot: string, largeFileThreshold?: number): Promise<string> {
  const manifestFile = posix.join(projectRoot, 'asset.json');
  try {
    const options = assetBuildOptions(workspaceRoot, { largeFileThreshold });
    const analysis = await prepareAsset(options, manifestFile, { sources: 'skip', statsTool: 'asset-content-key' });
    return `${PLUGIN_VERSION} content ${contentKey(analysis)}`;
  } catch (error) {
    // Not this script's job to report: the task runs and its executor reports the error. A failing key is never a
    // cache hit: the line is new on every run (a fixed message would let a build made after the failure be served
    // again once the content changed), with the message's digest to tell failures apart when reading it.
    return `error ${randomUUID()} ${sha256Digest(error instanceof Error ? error.message : String(error))}`;
  }
}

if (require.main === module) {
  const projectRoot = process.argv[2];
  if (!projectRoot) {
    process.stderr.write('usage: asset-content-key <asset folder relative to the workspace root>\n');
    process.exit(2);
  }
  const threshold = process.argv[3] ? Number(process.argv[3]) : undefined;
  assetContentKeyLine(process.cwd(), projectRoot, threshold).then((line) => process.stdout.write(`${line}\n`));
}
