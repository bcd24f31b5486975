#!/usr/bin/env node
// Issue 28's goals in one run: what a no-op costs against Nx's own floor, side by side.
//
//   npm run build && node tools/bench/no-op.mjs                 # 100 and 1,000 assets, 20,000 and 100,000 files
//   node tools/bench/no-op.mjs --quick                          # 100 assets, 20,000 files: ~5 min
//   options: --assets 100  --many 1000 (0 skips)  --corpus 20000  --big 100000 (0 skips)  --runs 5  --out <file.md>  --keep
//   (the first build of 1,000 assets takes ~45 min here, ~2.8 s an asset through the executor at --parallel=2)
//
// Workspaces (temp dirs, node_modules symlinked to this repo with a snapshot of the built plugin, git repositories):
//   assets-N   N asset projects (asset.json + 3 small files each) and one trivial project `other`;
//              targetDefaults give asset-image `load: false` (the no-op is the key, not Docker)
//   floor-N    N projects (project.json) with a cached trivial `nx:run-commands` target (`echo`), no plugin: Nx's floor
//   floor-runtime-N  the same, each target also with a runtime input of its own (`printf`): what Nx itself charges for
//              one runtime input per task (information; each asset-image target has one)
//   corpus     one asset of --corpus files of 1 KiB in 40 folders + the floor project `noop` (no plugin for it)
//   big        the same with --big files
//   unrelated  assets-N plus the corpus; `nx run other:noop` with the plugin and with it removed from nx.json
// Each case: two warm-up runs (the second checked to be a cache hit), then --runs timed runs; the median and every sample.
// Daemon off: NX_DAEMON=false. Daemon on: NX_DAEMON=true, the daemon started by the warm-up and stopped after.
// Peak RSS: the sum of the RSS of the whole process tree (nx and every child), sampled every 10 ms from /proc.
// Results: tools/bench/results/no-op-<date>[-quick].md (also printed) and .json.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cliArgs, linkBenchNodeModules, log, now, nxBinRelative, run } from './lib.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const { flag, opt } = cliArgs();
const quick = flag('quick');
const ASSETS = Number(opt('assets', '100'));
const MANY = Number(opt('many', quick ? '0' : '1000'));
const CORPUS = Number(opt('corpus', '20000'));
const BIG = Number(opt('big', quick ? '0' : '100000'));
const RUNS = Number(opt('runs', quick ? '3' : '5'));
const today = new Date().toISOString().slice(0, 10);
const OUT = opt('out', join(here, 'results', `no-op-${today}${quick ? '-quick' : ''}.md`));

const tmp = mkdtempSync('/tmp/nxai-noop-bench-');
const KEEP = flag('keep');
const cleanup = () => (KEEP ? log(`workspaces kept in ${tmp}`) : rmSync(tmp, { recursive: true, force: true }));
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => (stopDaemons(), cleanup(), process.exit(130)));
const results = { env: {}, measurements: {}, notes: [] };
const workspaces = [];

// ------------------------------------------------------------------ workspaces

function write(root, file, content) {
  mkdirSync(dirname(join(root, file)), { recursive: true });
  writeFileSync(join(root, file), content);
}

function workspace(name, { plugin, files, pluginOptions = {} }) {
  const root = join(tmp, name);
  mkdirSync(root, { recursive: true });
  write(root, 'package.json', `${JSON.stringify({ name, private: true })}\n`);
  const nxJson = {
    ...(plugin ? { plugins: [{ plugin: 'nx-asset-images', options: pluginOptions }] } : {}),
    targetDefaults: { 'asset-image': { options: { load: false } } },
  };
  write(root, 'nx.json', `${JSON.stringify(nxJson, null, 2)}\n`);
  write(root, '.gitignore', '/node_modules\n/.nx\n/dist\n/.asset-images\n');
  for (const [file, content] of files) write(root, file, content);
  linkBenchNodeModules(root);
  run('git', ['init', '-q', '-b', 'main'], { cwd: root });
  run('git', ['-c', 'user.name=b', '-c', 'user.email=b@b.invalid', 'add', '-A'], { cwd: root });
  run('git', ['-c', 'user.name=b', '-c', 'user.email=b@b.invalid', 'commit', '-q', '-m', 'init'], { cwd: root });
  workspaces.push(root);
  return root;
}

// `runtime`: the target also has a runtime input of its own (a shell builtin), as each asset-image target has: what
// Nx itself charges for one runtime input per task.
const noopProject = (dir, { runtime = false } = {}) => [
  `${dir}/project.json`,
  `${JSON.stringify({
    name: dir.split('/').pop(),
    targets: {
      noop: {
        executor: 'nx:run-commands',
        options: { command: 'echo hi' },
        cache: true,
        ...(runtime ? { inputs: ['default', { runtime: `printf '%s\\n' ${dir.split('/').pop()}` }] } : {}),
      },
    },
  })}\n`,
];

function* assetFiles(n) {
  for (let i = 0; i < n; i++) {
    const dir = `assets/a${String(i).padStart(4, '0')}`;
    yield [`${dir}/asset.json`, `${JSON.stringify({ name: `a${i}`, image: `localhost:5000/bench/a${i}`, tags: ['1'] })}\n`];
    yield [`${dir}/vocab.txt`, `vocab ${i}\n`];
    yield [`${dir}/config.json`, `{"i":${i}}\n`];
    yield [`${dir}/weights.bin`, Buffer.alloc(4096, i % 251)];
  }
}
function* floorFiles(n, options) {
  for (let i = 0; i < n; i++) yield noopProject(`libs/p${String(i).padStart(4, '0')}`, options);
}
function* corpusFiles(n, dir = 'assets/corpus') {
  yield [`${dir}/asset.json`, `${JSON.stringify({ name: dir.split('/').pop(), image: `localhost:5000/bench/${dir.split('/').pop()}` })}\n`];
  for (let i = 0; i < n; i++) yield [`${dir}/d${i % 40}/f${i}.txt`, Buffer.alloc(1024, i % 253)];
}

// ------------------------------------------------------------------ timing

/** Runs nx in `root`; wall seconds, and the peak of the summed RSS of its process tree (sampled from /proc). */
function nx(root, args, { daemon = false, env: extra = {} } = {}) {
  const env = { ...process.env, NX_DAEMON: daemon ? 'true' : 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false', CI: 'false', ...extra };
  env.NX_CACHE_DIRECTORY = join(root, '.nx', 'cache');
  delete env.NX_SKIP_NX_CACHE;
  return new Promise((resolve, reject) => {
    const t0 = now();
    const child = spawn(process.execPath, [join(root, 'node_modules', 'nx', nxBinRelative()), ...args], { cwd: root, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    let peakKb = 0;
    const sampler = setInterval(() => (peakKb = Math.max(peakKb, treeRssKb(child.pid))), 10);
    child.on('error', reject);
    child.on('close', (code) => {
      clearInterval(sampler);
      const seconds = now() - t0;
      if (code !== 0) reject(new Error(`nx ${args.join(' ')} in ${root} exited ${code}:\n${stdout.slice(-2000)}\n${stderr.slice(-2000)}`));
      else resolve({ seconds, rssMB: peakKb / 1024, stdout });
    });
  });
}

/** The summed VmRSS (kB) of `pid` and all its descendants (threads' children included). */
function treeRssKb(pid) {
  let total = 0;
  const stack = [pid];
  while (stack.length > 0) {
    const p = stack.pop();
    try {
      total += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0);
      for (const task of readdirSync(`/proc/${p}/task`)) {
        const children = readFileSync(`/proc/${p}/task/${task}/children`, 'utf8').trim();
        if (children) stack.push(...children.split(/\s+/).map(Number));
      }
    } catch {
      // exited meanwhile
    }
  }
  return total;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const isHit = (stdout) => /existing outputs match the cache|local cache|read the output from the cache/i.test(stdout);

/** Two warm-ups (the first may build or start the daemon; the second must be all cache hits), then RUNS timed runs. */
async function measure(key, root, args, opts = {}) {
  await nx(root, args, opts);
  const warm = await nx(root, args, opts);
  if (!isHit(warm.stdout)) results.notes.push(`WARNING: ${key}: the warm-up run was not a cache hit:\n${warm.stdout.slice(-600)}`);
  const samples = [];
  for (let i = 0; i < RUNS; i++) {
    const r = await nx(root, args, opts);
    if (!isHit(r.stdout)) results.notes.push(`WARNING: ${key}: run ${i + 1} was not a cache hit`);
    samples.push(r);
  }
  const m = {
    median: median(samples.map((s) => s.seconds)),
    samples: samples.map((s) => Number(s.seconds.toFixed(3))),
    rssMB: Math.max(...samples.map((s) => s.rssMB)),
  };
  results.measurements[key] = m;
  log(`${key}: median ${m.median.toFixed(2)} s, samples ${m.samples.join(' ')}, peak tree RSS ${m.rssMB.toFixed(0)} MB`);
  return m;
}

const daemonRoots = new Set();
async function withDaemon(root, fn) {
  daemonRoots.add(root);
  try {
    return await fn();
  } finally {
    stopDaemon(root);
  }
}
function stopDaemon(root) {
  run(process.execPath, [join(root, 'node_modules', 'nx', nxBinRelative()), 'daemon', '--stop'], {
    cwd: root,
    check: false,
    env: { ...process.env, NX_DAEMON: 'true' },
  });
  daemonRoots.delete(root);
}
function stopDaemons() {
  for (const root of [...daemonRoots]) stopDaemon(root);
}

/** Both modes of one case: `[off, on]`. */
async function bothModes(key, root, args) {
  const off = await measure(`${key}.daemonOff`, root, args);
  const on = await withDaemon(root, () => measure(`${key}.daemonOn`, root, args, { daemon: true }));
  return [off, on];
}

// ------------------------------------------------------------------ run

async function cases() {
  results.env = {
    date: new Date().toISOString(),
    node: process.version,
    cpus: cpus().length,
    loadavgStart: loadavg()
      .map((l) => l.toFixed(2))
      .join(' '),
    commit: run('git', ['rev-parse', '--short', 'HEAD'], { check: false }).stdout.trim(),
  };
  const rows = [];
  const row = (label, ours, floor, goal, check) => rows.push({ label, ours, floor, goal, met: check });

  // 1. N assets vs N cached trivial targets, daemon off and on
  log(`workspace: ${ASSETS} assets`);
  const assets = workspace(`assets-${ASSETS}`, { plugin: true, files: [...assetFiles(ASSETS), noopProject('apps/other')] });
  const floor = workspace(`floor-${ASSETS}`, { plugin: false, files: [...floorFiles(ASSETS)] });
  log('first build of the assets');
  await nx(assets, ['run-many', '-t', 'asset-image', '--parallel=2']);
  const [aOff, aOn] = await bothModes('assets', assets, ['run-many', '-t', 'asset-image']);
  const [fOff, fOn] = await bothModes('floor', floor, ['run-many', '-t', 'noop']);
  row(`${ASSETS} assets, no-op \`run-many -t asset-image\`, daemon off`, aOff, fOff, 'ratio <= 1.3', aOff.median / fOff.median <= 1.3);
  row(`${ASSETS} assets, the same, daemon on`, aOn, fOn, 'ratio <= 1.3', aOn.median / fOn.median <= 1.3);
  await runtimeFloorRows(row, ASSETS, fOff, fOn);

  // The same with the hook off: every runtime input starts node (what an agent without the hook pays, and the old cost).
  const hookOff = await measure('assets.hookOff.daemonOff', assets, ['run-many', '-t', 'asset-image'], {
    env: { NX_ASSET_IMAGES_CONTENT_INDEX: 'off' },
  });
  row(
    `${ASSETS} assets, daemon off, content index hook off (\`NX_ASSET_IMAGES_CONTENT_INDEX=off\`)`,
    hookOff,
    fOff,
    'information',
    undefined,
  );

  // 2. 1,000 assets
  if (MANY > 0) {
    log(`workspace: ${MANY} assets`);
    // gc on (the default): an asset's first build skips the prune when one ran in the last 10 minutes, so the first
    // builds of many assets no longer each scan the whole store (they did, O(n²), up to a9bb2f2).
    const many = workspace(`assets-${MANY}`, { plugin: true, files: [...assetFiles(MANY)] });
    const manyFloor = workspace(`floor-${MANY}`, { plugin: false, files: [...floorFiles(MANY)] });
    const firstBuild = await nx(many, ['run-many', '-t', 'asset-image', '--parallel=2']);
    results.measurements.manyFirstBuildSeconds = firstBuild.seconds;
    results.notes.push(`The first build of ${MANY} assets (gc on, --parallel=2) took ${firstBuild.seconds.toFixed(0)} s.`);
    const [mOff, mOn] = await bothModes('many', many, ['run-many', '-t', 'asset-image']);
    const [mfOff, mfOn] = await bothModes('manyFloor', manyFloor, ['run-many', '-t', 'noop']);
    row(`${MANY} assets, daemon off`, mOff, mfOff, 'ratio <= 1.5', mOff.median / mfOff.median <= 1.5);
    row(`${MANY} assets, daemon on`, mOn, mfOn, 'ratio <= 1.5', mOn.median / mfOn.median <= 1.5);
    await runtimeFloorRows(row, MANY, mfOff, mfOn);
  }

  // 3. a corpus of CORPUS files: `nx run corpus:asset-image` vs `nx run noop:noop` in the same workspace
  if (CORPUS > 0) await corpusCases(row);
  // 4. BIG files
  if (BIG > 0) await bigCase(row);
  // 5. an unrelated `nx run`
  if (CORPUS > 0) await unrelatedCases(row);
  return rows;
}

/** Information: N cached trivial targets that each also have a runtime input (a builtin), against the plain floor. */
async function runtimeFloorRows(row, n, plainOff, plainOn) {
  const root = workspace(`floor-runtime-${n}`, { plugin: false, files: [...floorFiles(n, { runtime: true })] });
  const [rOff, rOn] = await bothModes(`floorRuntime${n}`, root, ['run-many', '-t', 'noop']);
  row(
    `${n} cached trivial targets with a runtime input each (what Nx charges for them), daemon off`,
    rOff,
    plainOff,
    'information',
    undefined,
  );
  row('the same, daemon on', rOn, plainOn, 'information', undefined);
}

async function corpusCases(row) {
  log(`workspace: a corpus of ${CORPUS} files`);
  const corpus = workspace('corpus', { plugin: true, files: [...corpusFiles(CORPUS), noopProject('apps/noop')] });
  await nx(corpus, ['run', 'corpus:asset-image']);
  const [cOff, cOn] = await bothModes('corpus', corpus, ['run', 'corpus:asset-image']);
  const [cfOff, cfOn] = await bothModes('corpusFloor', corpus, ['run', 'noop:noop']);
  row(`a corpus of ${CORPUS} files, no-op \`nx run\`, daemon off`, cOff, cfOff, '+0.3 s at most', cOff.median - cfOff.median <= 0.3);
  row(`a corpus of ${CORPUS} files, daemon on`, cOn, cfOn, '+0.1 s at most', cOn.median - cfOn.median <= 0.1);
}

async function bigCase(row) {
  {
    log(`workspace: ${BIG} files`);
    const big = workspace('big', { plugin: true, files: [...corpusFiles(BIG, 'assets/big'), noopProject('apps/noop')] });
    await nx(big, ['run', 'big:asset-image']);
    const bOff = await measure('big.daemonOff', big, ['run', 'big:asset-image']);
    const bfOff = await measure('bigFloor.daemonOff', big, ['run', 'noop:noop']);
    row(
      `${BIG} files, daemon off (peak RSS of the whole process tree)`,
      bOff,
      bfOff,
      '+1 s at most, < 250 MB',
      bOff.median - bfOff.median <= 1 && bOff.rssMB < 250,
    );
  }
}

/** An unrelated `nx run` in a workspace with ASSETS assets and the corpus, with and without the plugin. */
async function unrelatedCases(row) {
  log('workspace: unrelated');
  const unrelatedFiles = [...assetFiles(ASSETS), ...corpusFiles(CORPUS), noopProject('apps/other')];
  const withPlugin = workspace('unrelated', { plugin: true, files: unrelatedFiles });
  const without = workspace('unrelated-no-plugin', { plugin: false, files: unrelatedFiles });
  await nx(withPlugin, ['run-many', '-t', 'asset-image', '--parallel=2']);
  const [uOff, uOn] = await bothModes('unrelated', withPlugin, ['run', 'other:noop']);
  const [unOff, unOn] = await bothModes('unrelatedNoPlugin', without, ['run', 'other:noop']);
  row(
    `unrelated \`nx run other:noop\`, ${ASSETS} assets + corpus, daemon off`,
    uOff,
    unOff,
    '+0.1 s at most',
    uOff.median - unOff.median <= 0.1,
  );
  row('the same, daemon on', uOn, unOn, '+0.1 s at most', uOn.median - unOn.median <= 0.1);
  // Where the difference goes: Nx's isolated plugin worker, which any plugin with a task hook gets; without isolation
  // (NX_ISOLATE_PLUGINS=false) the hooks run in Nx's own process.
  const notIsolated = { NX_ISOLATE_PLUGINS: 'false' };
  const uniOff = await measure('unrelated.notIsolated.daemonOff', withPlugin, ['run', 'other:noop'], { env: notIsolated });
  const uniOn = await withDaemon(withPlugin, () =>
    measure('unrelated.notIsolated.daemonOn', withPlugin, ['run', 'other:noop'], { daemon: true, env: notIsolated }),
  );
  row('the same with `NX_ISOLATE_PLUGINS=false`, daemon off', uniOff, unOff, 'information', undefined);
  row('the same with `NX_ISOLATE_PLUGINS=false`, daemon on', uniOn, unOn, 'information', undefined);
}

async function main() {
  const rows = await cases();
  results.env.loadavgEnd = loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  const fmt = (m) => `${m.median.toFixed(2)} s (${m.samples.join(', ')}), ${m.rssMB.toFixed(0)} MB`;
  const lines = [
    `# No-op benchmark, ${results.env.date.slice(0, 10)} (commit ${results.env.commit})`,
    '',
    `\`node tools/bench/no-op.mjs${process.argv.slice(2).length ? ` ${process.argv.slice(2).join(' ')}` : ''}\` on ${results.env.cpus} cores, Node ${results.env.node}; load average ${results.env.loadavgStart} at the start, ${results.env.loadavgEnd} at the end. Median of ${RUNS} runs after two warm-ups, every sample in brackets; peak RSS is the whole process tree's, largest of the runs.`,
    '',
    '| case | ours | Nx floor | ratio | difference | goal | met |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map(
      (r) =>
        `| ${r.label} | ${fmt(r.ours)} | ${fmt(r.floor)} | ${(r.ours.median / r.floor.median).toFixed(2)}x | ${(r.ours.median - r.floor.median >= 0 ? '+' : '') + (r.ours.median - r.floor.median).toFixed(2)} s | ${r.goal} | ${r.met === undefined ? '' : r.met ? 'met' : 'not met'} |`,
    ),
    '',
    'Floors: `run-many -t noop` over the same number of projects with a cached trivial `nx:run-commands` target (no plugin); for one asset, `nx run noop:noop` in the same workspace; for the unrelated run, the same workspace with the plugin removed from nx.json.',
    ...results.notes.map((n) => `\n- ${n}`),
    '',
  ];
  const text = lines.join('\n');
  writeFileSync(OUT, text);
  writeFileSync(OUT.replace(/\.md$/, '.json'), `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(`${text}\n`);
}

main()
  .catch((error) => {
    process.stderr.write(`${error.stack ?? error}\n`);
    process.exitCode = 1;
  })
  .finally(() => {
    stopDaemons();
    cleanup();
  });
