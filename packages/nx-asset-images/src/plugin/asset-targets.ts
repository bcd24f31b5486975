import type { TargetConfiguration } from '@nx/devkit';

import {
  ASSET_IMAGE_EXECUTOR,
  ASSET_PULL_EXECUTOR,
  ASSET_PUSH_EXECUTOR,
  assetResultDir,
  INVALID_MANIFEST_EXECUTOR,
} from '../workspace/workspace-facts';
import { CONTENT_KEYS_ENV, contentKeyFileName } from '../content-index/key-env';

/**
 * Runtime input that pins an asset's exact local content: a line with a digest of
 * (path, size, mode, sha256) of every file, so unchanged weights are never read and
 * gitignored files are not missed.
 *
 * The content index hook (`preTasksExecution`) writes the line of every unchanged asset
 * once per command into a key folder (`content-index/key-folder.ts`) named by one
 * variable: the input is then shell builtins (`read`, `printf`). Where the variable is
 * empty or unset, or the folder has no file for the asset (a changed asset, an agent
 * where the hook does not run), a small node script computes the same line, so both
 * hash alike and share caches. Nothing goes to stderr, which Nx hashes too.
 */
export function contentKeyCommand(projectRoot: string, largeFileThreshold?: number): string {
  const threshold = largeFileThreshold === undefined ? '' : ` ${largeFileThreshold}`;
  const keyFile = `"$${CONTENT_KEYS_ENV}/${contentKeyFileName(projectRoot)}"`;
  const script = `node node_modules/nx-asset-images/dist/bin/asset-content-key.js ${JSON.stringify(projectRoot)}${threshold}`;
  // Nx hashes what a runtime input prints and ignores its exit code: a key script that cannot start would print the same
  // error every run and serve a stale build. Its failure prints a line that is new on every run instead (never a hit).
  return (
    `asset_key=; [ -n "$${CONTENT_KEYS_ENV}" ] && { read -r asset_key < ${keyFile}; } 2>/dev/null; ` +
    `[ -n "$asset_key" ] && printf '%s\\n' "$asset_key" || ${script} || ${KEY_FAILED_COMMAND}`
  );
}

/** Printed when the key script fails: a fresh line each run (time and a random number), so the task is never a cache hit. */
export const KEY_FAILED_COMMAND = `node -e "console.log('asset-content-key failed', Date.now(), Math.random())"`;

/**
 * `largeFileThreshold` (plugin option) goes to both the build and the content key, so the
 * key computes the same single-file layer digests the build needs, in the same read.
 */
export function assetImageTarget(
  projectRoot: string,
  projectName: string,
  largeFileThreshold?: number,
  platforms?: readonly string[],
): TargetConfiguration {
  const resultDir = assetResultDir(projectName);
  return {
    executor: ASSET_IMAGE_EXECUTOR,
    cache: true,
    inputs: [
      `{projectRoot}/asset.json`,
      { runtime: contentKeyCommand(projectRoot, largeFileThreshold) },
      { env: 'SOURCE_DATE_EPOCH' },
      // No npm package but our own can change the image; our version is part of the content key line.
      { externalDependencies: [] },
    ],
    outputs: [`{workspaceRoot}/${resultDir}`, '{projectRoot}/asset.lock.json'],
    options: {
      manifest: `${projectRoot}/asset.json`,
      outputPath: resultDir,
      ...(largeFileThreshold === undefined ? {} : { largeFileThreshold }),
      // Target options are part of Nx's hash of the task: another list is another build.
      ...(platforms === undefined ? {} : { platforms: [...platforms] }),
    },
    metadata: {
      technologies: ['docker'],
      description:
        "Build the asset's FROM scratch OCI image (daemonless, reproducible) and load it into Docker when an engine is reachable",
      help: {
        command: 'nx run <project>:asset-image --help',
        example: { options: { load: false } },
      },
    },
  };
}

export function assetPushTarget(buildTargetName: string): TargetConfiguration {
  return {
    executor: ASSET_PUSH_EXECUTOR,
    cache: false,
    dependsOn: [buildTargetName],
    options: {},
    metadata: {
      technologies: ['docker'],
      description: 'Push the asset image to its registry over the OCI distribution API, skipping blobs already there',
    },
  };
}

/** Writes the asset's absent files (pinned by its lock) from the registry; like `git lfs pull`. Never cached: it fills the folder. */
export function assetPullTarget(): TargetConfiguration {
  return {
    executor: ASSET_PULL_EXECUTOR,
    cache: false,
    options: {},
    metadata: {
      technologies: ['docker'],
      description:
        'Write the files the lock pins and this clone lacks (missing, or Git LFS pointers) from the registry, verified against the lock',
      help: { command: 'nx run <project>:asset-pull --help', example: { options: { files: 'weights/*.bin' } } },
    },
  };
}

/** A target that fails with the manifest's error when run, so one broken asset.json never breaks the graph of the others. */
export function brokenManifestTarget(message: string): TargetConfiguration {
  return {
    executor: INVALID_MANIFEST_EXECUTOR,
    cache: false,
    options: { message },
    metadata: { description: `asset.json is invalid: ${message}` },
  };
}
