#!/usr/bin/env node
// Project-graph cost of the plugin: a generated workspace with 500 asset
// projects (asset.json) and 300 apps (project.json + Dockerfile using 1 to 3
// assets), timed with `nx show projects`, `nx graph --file` and `nx affected`
// (a change to one app: no task runs, but the task hooks do), cold (after
// `nx reset`, NX_DAEMON=false) and warm (second run, graph cache in .nx),
// with the plugin, without it (same files, plugin removed from nx.json), and
// with the assets declared statically (a project.json in each asset folder,
// no plugin: the same 800 projects, the fairer floor).
//
//   npm run build && node tools/bench/graph.mjs [--assets 500] [--apps 300] [--runs 3] [--keep] [--plugin-dir <built package>]
//
// Goal: cold < 3 s, and with-plugin <= 1.5 x no-plugin + 1 s.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i === -1 ? def : Number(args[i + 1]);
};
const ASSETS = opt('assets', 500);
const APPS = opt('apps', 300);
const RUNS = opt('runs', 3);
const KEEP = args.includes('--keep');
// --plugin-dir <dir>: bench another built copy of the package (e.g. an older commit's), default this repo's.
const PLUGIN_DIR = args.includes('--plugin-dir') ? args[args.indexOf('--plugin-dir') + 1] : undefined;

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const modules = join(repo, 'node_modules');
const nxPkg = JSON.parse(readFileSync(join(modules, 'nx', 'package.json'), 'utf8'));
const nxBin = typeof nxPkg.bin === 'string' ? nxPkg.bin : nxPkg.bin.nx;

// Deterministic pseudo-random choices (the same workspace on every run).
let seed = 42;
const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;

function write(root, file, content) {
  mkdirSync(dirname(join(root, file)), { recursive: true });
  writeFileSync(join(root, file), content);
}

function generate() {
  const root = mkdtempSync(join(tmpdir(), 'nxai-graph-bench-'));
  write(root, 'package.json', JSON.stringify({ name: 'graph-bench', private: true }));
  write(root, '.gitignore', 'node_modules\n.nx\ndist\n.asset-images\n');
  for (let i = 0; i < ASSETS; i++) {
    write(
      root,
      `assets/a${i}/asset.json`,
      JSON.stringify({ name: `asset-${i}`, image: `registry.example.com/asset/a${i}`, tags: ['0.1'] }),
    );
    write(root, `assets/a${i}/vocab.txt`, `${i}\n`);
  }
  for (let j = 0; j < APPS; j++) {
    const n = 1 + Math.floor(rand() * 3);
    const used = new Set();
    while (used.size < n) used.add(Math.floor(rand() * ASSETS));
    const lines = [
      'ARG BASE=busybox',
      'FROM ${BASE}',
      ...[...used].map((i) => `COPY --from=registry.example.com/asset/a${i}:0.1 / /assets/a${i}/`),
      'COPY . /app',
      'CMD ["/app/run"]',
    ];
    write(root, `apps/app${j}/Dockerfile`, `${lines.join('\n')}\n`);
    write(root, `apps/app${j}/project.json`, JSON.stringify({ name: `app-${j}`, root: `apps/app${j}` }));
    write(root, `apps/app${j}/main.py`, `print(${j})\n`);
  }
  // node_modules: symlinks to this repo's packages, and a snapshot of the built plugin
  // (others may rebuild dist meanwhile; of src only the executors' schema.json files).
  const nm = join(root, 'node_modules');
  mkdirSync(nm, { recursive: true });
  for (const name of readdirSync(modules)) {
    if (name === 'nx-asset-images' || name.startsWith('.')) continue;
    symlinkSync(join(modules, name), join(nm, name), 'dir');
  }
  const plugin = PLUGIN_DIR ?? join(repo, 'packages', 'nx-asset-images');
  for (const name of readdirSync(plugin)) {
    const filter = name === 'src' ? (from) => !/\.ts$/.test(from) : undefined;
    cpSync(join(plugin, name), join(nm, 'nx-asset-images', name), { recursive: true, dereference: false, filter });
  }
  const git = (...a) => execFileSync('git', a, { cwd: root, stdio: 'ignore', env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1' } });
  git('init', '-q', '-b', 'main');
  git('-c', 'user.name=bench', '-c', 'user.email=bench@invalid', 'add', '-A');
  git('-c', 'user.name=bench', '-c', 'user.email=bench@invalid', '-c', 'commit.gpgsign=false', 'commit', '-qm', 'bench');
  return root;
}

const ENV = { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false', NX_SKIP_NX_CACHE: undefined };
delete ENV.NX_SKIP_NX_CACHE;

function nx(root, argv) {
  const t = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [join(root, 'node_modules', 'nx', nxBin), ...argv], {
    cwd: root,
    env: ENV,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  const s = Number(process.hrtime.bigint() - t) / 1e9;
  if (r.status !== 0) throw new Error(`nx ${argv.join(' ')} exited ${r.status}:\n${r.stderr}\n${r.stdout}`.slice(0, 4000));
  return { s, stdout: r.stdout };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const loadBefore = loadavg();
const root = generate();
const COMMANDS = {
  'show projects': ['show', 'projects', '--json'],
  'graph --file': ['graph', '--file=graph.json'],
  // Runs the task hooks (the content index's preTasksExecution) but no task: app0 has no asset-image target.
  affected: ['affected', '-t', 'asset-image', '--files=apps/app0/main.py'],
};
// `static`: no plugin, the assets declared as project.json projects too (the same project count as with the plugin).
const staticProject = (i) => `assets/a${i}/project.json`;
const results = {};
try {
  for (const variant of ['plugin', 'no-plugin', 'static']) {
    write(root, 'nx.json', JSON.stringify(variant === 'plugin' ? { plugins: [{ plugin: 'nx-asset-images', options: {} }] } : {}));
    for (let i = 0; i < ASSETS; i++) {
      if (variant === 'static') write(root, staticProject(i), JSON.stringify({ name: `asset-${i}`, root: `assets/a${i}` }));
      else rmSync(join(root, staticProject(i)), { force: true });
    }
    for (const [label, argv] of Object.entries(COMMANDS)) {
      const cold = [];
      const warm = [];
      for (let i = 0; i < RUNS; i++) {
        nx(root, ['reset']);
        const c = nx(root, argv);
        cold.push(c.s);
        warm.push(nx(root, argv).s);
        if (i === 0 && label === 'show projects') results[`${variant} projects`] = JSON.parse(c.stdout).length;
        if (i === 0 && label === 'graph --file' && variant === 'plugin') {
          const g = JSON.parse(readFileSync(join(root, 'graph.json'), 'utf8'));
          results.edges = Object.values(g.graph.dependencies)
            .flat()
            .filter((d) => d.target.startsWith('asset-')).length;
        }
      }
      results[`${variant} ${label}`] = { cold, warm };
    }
  }
} finally {
  if (!KEEP) rmSync(root, { recursive: true, force: true });
  else console.log(`workspace kept at ${root}`);
}

const fmt = (x) => x.toFixed(2).padStart(6);
console.log(`\nnx ${nxPkg.version}, ${ASSETS} assets + ${APPS} apps, ${RUNS} runs each, NX_DAEMON=false; median (min..max) seconds`);
console.log(`load average (1 min) ${loadBefore[0].toFixed(1)} before, ${loadavg()[0].toFixed(1)} after, on ${cpus().length} cores`);
console.log(
  `projects: ${results['plugin projects']} with the plugin, ${results['no-plugin projects']} without, ${results['static projects']} declared statically; app->asset edges: ${results.edges}\n`,
);
const cell = (xs) => `${fmt(median(xs))} (${Math.min(...xs).toFixed(2)}..${Math.max(...xs).toFixed(2)})`;
console.log(
  'command        | mode | with plugin            | without plugin         | ratio | budget 1.5x+1s | ok  | 800 static             | ratio to static',
);
console.log(
  '---------------|------|------------------------|------------------------|-------|----------------|-----|------------------------|----------------',
);
for (const label of Object.keys(COMMANDS)) {
  for (const mode of ['cold', 'warm']) {
    const p = results[`plugin ${label}`][mode];
    const n = results[`no-plugin ${label}`][mode];
    const st = results[`static ${label}`][mode];
    const mp = median(p);
    const mn = median(n);
    const budget = 1.5 * mn + 1;
    const ok = mp <= budget && (mode === 'warm' || mp < 3);
    console.log(
      `${label.padEnd(14)} | ${mode} | ${cell(p)} | ${cell(n)} | ${(mp / mn).toFixed(2).padStart(5)} | ${fmt(budget)}         | ${ok ? 'yes' : 'NO '} | ${cell(st)} | ${(mp / median(st)).toFixed(2)}`,
    );
  }
}
