// The plugin as users get it: `npm pack` of the built package, installed with
// plain `npm i --offline` (no --legacy-peer-deps, no --force) into a fresh
// workspace. No network but 127.0.0.1 in tests: npm takes the packages from
// its cache (the repository's `npm ci` fills it for its own Nx line,
// tools/prepare-nx-versions.mjs for the older ones).
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { expect } from 'vitest';
import { exec } from './exec';
import { pluginDir, repoRoot, type Workspace } from './workspace';

export interface PackedPlugin {
  /** Absolute path of `nx-asset-images-<version>.tgz`. */
  readonly tarball: string;
  dispose(): Promise<void>;
}

/** `npm pack` of packages/nx-asset-images (built first: `npm run build`) into a temp folder. */
export async function packPlugin(): Promise<PackedPlugin> {
  if (!existsSync(path.join(pluginDir, 'dist', 'index.js'))) throw new Error(`${pluginDir}/dist is missing: run "npm run build" first`);
  const packDir = await mkdtemp(path.join(tmpdir(), 'nxai-pack-'));
  await exec('npm', ['pack', '--pack-destination', packDir, '--loglevel=error'], { cwd: pluginDir });
  const [file] = (await readdir(packDir)).filter((f) => f.endsWith('.tgz'));
  if (!file) throw new Error(`npm pack wrote no .tgz into ${packDir}`);
  return { tarball: path.join(packDir, file), dispose: () => rm(packDir, { recursive: true, force: true }) };
}

/** The repository's own Nx version (the line every e2e file but nx-versions.spec runs on). */
export function repoNxVersion(): string {
  return (JSON.parse(readFileSync(path.join(repoRoot, 'node_modules', 'nx', 'package.json'), 'utf8')) as { version: string }).version;
}

/**
 * `npm i --offline -D <packages> <install>` in `ws` (`install`: the tarball, or the words of the install line under
 * test); fails with npm's own words when the cache lacks something, and checks the tree is valid and has `nx` at
 * `packages.nx`.
 */
export async function npmInstallOffline(ws: Workspace, packages: Record<string, string>, install: readonly string[]): Promise<void> {
  const specs = Object.entries(packages).map(([n, v]) => `${n}@${v}`);
  const res = await exec('npm', ['i', '--offline', '--no-audit', '--no-fund', '--loglevel=error', '-D', ...specs, ...install], {
    cwd: ws.root,
    reject: false,
    timeoutMs: 240_000,
  });
  if (res.exitCode !== 0) {
    throw new Error(`npm i of the packed plugin failed (run "node tools/prepare-nx-versions.mjs" to fill npm's cache):\n${res.stderr}`);
  }
  // A valid tree: no peer conflict accepted behind our back.
  const ls = await exec('npm', ['ls', '--all', '--loglevel=error'], { cwd: ws.root, reject: false });
  expect(ls.exitCode, ls.stdout + ls.stderr).toBe(0);
  const installed = JSON.parse(readFileSync(ws.path('node_modules', 'nx', 'package.json'), 'utf8')) as { version: string };
  expect(installed.version).toBe(packages['nx']);
}
