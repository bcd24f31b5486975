#!/usr/bin/env node
// Puts the packages of the Nx lines in tools/nx-versions.json, and the
// plugin's own runtime dependencies, into npm's cache, so that
// e2e/nx-versions.spec.ts can `npm i --offline` the packed plugin into fresh
// Nx 22 and Nx 23 workspaces (tests use no network but 127.0.0.1).
// Idempotent and quiet: a line whose stamp matches is skipped.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { lines } = JSON.parse(readFileSync(path.join(repo, 'tools', 'nx-versions.json'), 'utf8'));
const pluginDeps = JSON.parse(readFileSync(path.join(repo, 'packages', 'nx-asset-images', 'package.json'), 'utf8')).dependencies ?? {};

for (const line of lines) {
  const specs = [...Object.entries(line.packages), ...Object.entries(pluginDeps)].map(([n, v]) => `${n}@${v}`);
  const dir = path.join(repo, 'node_modules', '.cache', 'nxai-nx-versions', line.name);
  const stamp = path.join(dir, 'stamp');
  const want = specs.join(' ');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === want) continue;
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify({ name: `nxai-${line.name}`, private: true }, null, 2)}\n`);
  process.stderr.write(`prepare-nx-versions: caching ${want}\n`);
  execFileSync('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error', ...specs], {
    cwd: dir,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  writeFileSync(stamp, want);
}
