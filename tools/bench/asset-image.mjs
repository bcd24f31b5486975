#!/usr/bin/env node
// Benchmark of the asset-image target against the reference tools, in one run.
// Run after `npm run build`, as root (it starts a private dockerd):
//
//   node tools/bench/asset-image.mjs                 # 2 GiB asset, 3 GiB weight
//   node tools/bench/asset-image.mjs --quick         # 256 MiB asset, 512 MiB weight (smoke run)
//   options: --size 2GiB  --weight 3GiB  --runs 3 (cheap rows)  --heavy-runs 1 (docker builds, cold page cache)
//            --no-drop-caches  --out <file.md>
//
// It starts and stops its own services (tools/test-services.sh in a temp state
// dir, stopped also on failure and SIGINT), builds a real Nx temp workspace
// (node_modules symlinked to this repo, git init), and removes everything it
// wrote when it ends. Results: tools/bench/results/asset-image-<date>[-quick].md/.json.
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  statSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  benchServices,
  cliArgs,
  DOCKER,
  GiB,
  linkBenchNodeModules,
  log,
  MiB,
  now,
  nxBinRelative,
  parseSize,
  repo,
  run,
  timed,
  writeRandomFile,
} from './lib.mjs';

const here = dirname(fileURLToPath(import.meta.url));

// ------------------------------------------------------------------ options

const { argv, flag, opt } = cliArgs();
const quick = flag('quick');
const SIZE = parseSize(opt('size', quick ? '256MiB' : '2GiB'));
const WEIGHT = parseSize(opt('weight', quick ? '512MiB' : '3GiB'));
const RUNS = Number(opt('runs', 3));
const HEAVY = Number(opt('heavy-runs', 1));
const DROP = !flag('no-drop-caches');
const today = new Date().toISOString().slice(0, 10);
const OUT = opt('out', join(here, 'results', `asset-image-${today}${quick ? '-quick' : ''}.md`));

// ------------------------------------------------------------------ helpers

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Wall time and peak RSS (GNU time: the largest of the process and its waited-for descendants). */
function timedRss(cmd, args, opts) {
  const file = join(tmp, `time-${process.pid}.txt`);
  const t = now();
  const r = run('/usr/bin/time', ['-v', '-o', file, cmd, ...args], opts);
  const seconds = now() - t;
  const kb = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(readFileSync(file, 'utf8'))?.[1]);
  return { seconds, rssMB: kb / 1024, stdout: r.stdout, stderr: r.stderr };
}

const results = { rows: [], notes: [], measurements: {} };
/** Runs `fn` n times (each after `before`), keeps every sample, returns the median. */
async function measure(key, n, fn, before) {
  const samples = [];
  const extra = [];
  for (let i = 0; i < n; i++) {
    before?.(i);
    const r = fn(i);
    // Let the event loop run between samples: a SIGTERM/SIGINT sent to this process alone is handled here
    // (the child processes are run with spawnSync, which blocks signal handlers until it returns).
    await new Promise((resolve) => setImmediate(resolve));
    samples.push(typeof r === 'number' ? r : r.seconds);
    if (typeof r === 'object') extra.push(r);
  }
  const m = { median: median(samples), samples, n };
  if (extra.length && extra[0].rssMB !== undefined) m.rssMB = median(extra.map((e) => e.rssMB));
  if (extra.length && extra[0].workSeconds !== undefined) m.work = median(extra.map((e) => e.workSeconds));
  results.measurements[key] = m;
  log(
    `${key}: median ${m.median.toFixed(3)} s of [${samples.map((s) => s.toFixed(2)).join(', ')}]${m.rssMB ? `, RSS ${m.rssMB.toFixed(0)} MB` : ''}`,
  );
  return m;
}

// ------------------------------------------------------------------ setup / teardown

const tmp = mkdtempSync('/tmp/nxai-bench-');
const state = join(tmp, 'svc');
const ws = join(tmp, 'ws');
const ctx = join(tmp, 'docker-ctx');
const services = benchServices(state);
const svcEnv = services.env;
let daemonWs;
let cleaned = false;

function cleanup() {
  if (cleaned) return;
  cleaned = true;
  try {
    if (daemonWs) run(process.execPath, [nxBin(daemonWs), 'daemon', '--stop'], { cwd: daemonWs, env: nxEnv(true), check: false });
  } catch {}
  services.stop();
  rmSync(tmp, { recursive: true, force: true });
  log(`removed ${tmp}`);
}
process.on('SIGINT', () => {
  log('SIGINT: cleaning up');
  cleanup();
  process.exit(130);
});
process.on('SIGTERM', () => {
  log('SIGTERM: cleaning up');
  cleanup();
  process.exit(143);
});

const dockerEnv = (buildkit) => ({
  ...process.env,
  ...svcEnv,
  ...(buildkit === undefined ? {} : { DOCKER_BUILDKIT: buildkit ? '1' : '0' }),
});
const docker = (args, buildkit) => run(DOCKER, args, { env: dockerEnv(buildkit) });

const nxBin = (root) => join(root, 'node_modules', 'nx', nxBinRelative());
/** Nx env without the services (no DOCKER_HOST: nx runs never touch the engine; targetDefaults say load: false anyway). */
function nxEnv(daemon) {
  const env = { ...process.env, NX_DAEMON: daemon ? 'true' : 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false', CI: 'false' };
  delete env.NX_SKIP_NX_CACHE;
  delete env.DOCKER_HOST;
  return env;
}
const nx = (args, daemon = false) => timed(process.execPath, [nxBin(ws), ...args], { cwd: ws, env: nxEnv(daemon) });
const nxRss = (args) => timedRss(process.execPath, [nxBin(ws), ...args], { cwd: ws, env: nxEnv(false) });

const FILES = {
  'model-a.bin': Math.round((SIZE * 3) / 4),
  'model-b.bin': SIZE - Math.round((SIZE * 3) / 4),
  'config.json': 1024,
  'tokenizer.json': 256 * 1024,
  'vocab.txt': 64 * 1024,
};

function createWorkspace() {
  log(`workspace ${ws}`);
  const w = (file, content) => {
    mkdirSync(dirname(join(ws, file)), { recursive: true });
    writeFileSync(join(ws, file), content);
  };
  w('package.json', JSON.stringify({ name: 'bench', version: '0.0.0', private: true }, null, 2));
  w(
    'nx.json',
    JSON.stringify(
      {
        plugins: [{ plugin: 'nx-asset-images', options: {} }],
        targetDefaults: { 'asset-image': { options: { load: false } } },
      },
      null,
      2,
    ),
  );
  w('.gitignore', '/node_modules\n/.nx\n/.asset-images\n/dist\n*.bin\n');
  w('assets/bench/asset.json', JSON.stringify({ name: 'bench', image: 'localhost:5000/asset/bench', tags: ['0.1'] }, null, 2));
  w('assets/weight/asset.json', JSON.stringify({ name: 'weight', image: 'localhost:5000/asset/weight', tags: ['0.1'] }, null, 2));
  w('assets/weight/config.json', `${JSON.stringify({ hidden: 768 })}\n`);
  w(
    'tools/noop/project.json',
    JSON.stringify(
      { name: 'noop', targets: { noop: { executor: 'nx:run-commands', options: { command: 'true' }, cache: true, inputs: [] } } },
      null,
      2,
    ),
  );
  for (const [name, size] of Object.entries(FILES)) {
    const p = join(ws, 'assets/bench', name);
    if (name.endsWith('.bin')) writeRandomFile(p, size);
    else writeFileSync(p, randomBytes(size / 2).toString('hex'));
  }
  linkBenchNodeModules(ws);
  const plugin = join(repo, 'packages', 'nx-asset-images');
  results.env.pluginDistBuilt = statSync(join(plugin, 'dist', 'executors', 'asset-image', 'executor.js')).mtime.toISOString();
  results.env.repoCommit = run('git', ['rev-parse', '--short', 'HEAD']).stdout.trim();
  const git = (...a) => run('git', a, { cwd: ws, env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1' } });
  git('init', '-q', '-b', 'main');
  git('-c', 'user.name=bench', '-c', 'user.email=bench@invalid', 'add', '-A');
  git('-c', 'user.name=bench', '-c', 'user.email=bench@invalid', '-c', 'commit.gpgsign=false', 'commit', '-q', '-m', 'initial');
  // docker build context: hard links to the very same files (same inodes; made before any build, so the stat cache sees final ctimes).
  mkdirSync(ctx);
  for (const name of Object.keys(FILES)) linkSync(join(ws, 'assets/bench', name), join(ctx, name));
  writeFileSync(join(tmp, 'Dockerfile'), 'FROM scratch\nCOPY . /\n');
}

// ------------------------------------------------------------------ our side

const MANIFEST = 'assets/bench/asset.json';
const store = () => join(ws, '.asset-images');
const ours = (mode, layout, load) => {
  const r = timed(process.execPath, [join(here, 'asset-image-run.mjs'), mode, ws, MANIFEST, String(layout), String(load)], {
    cwd: ws,
    env: { ...process.env, ...svcEnv, CI: 'false', BENCH_PLUGIN_DIST: join(ws, 'node_modules', 'nx-asset-images', 'dist') },
  });
  const line = JSON.parse(r.stdout.trim().split('\n').pop());
  return { seconds: r.seconds, ...line };
};
const resetStore = () => {
  rmSync(store(), { recursive: true, force: true });
  rmSync(join(ws, 'dist'), { recursive: true, force: true });
};
function removeDockerImages() {
  const lines = docker(['images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}']).stdout.trim().split('\n').filter(Boolean);
  const ids = [...new Set(lines.filter((l) => !l.startsWith('busybox:')).map((l) => l.split(' ')[1]))];
  if (ids.length) run(DOCKER, ['rmi', '-f', ...ids], { env: dockerEnv(), check: false });
  run(DOCKER, ['builder', 'prune', '-af'], { env: dockerEnv(), check: false });
}
let changeCounter = 0;
/** Rewrites the 1 KiB config.json in place (same inode: the docker context's hard link sees it too). */
function change1KiB() {
  changeCounter++;
  const text = JSON.stringify({ change: changeCounter, pad: '' });
  writeFileSync(join(ws, 'assets/bench/config.json'), text + ' '.repeat(1024 - text.length));
}

function sha256Pass(paths) {
  const buf = Buffer.allocUnsafe(8 * MiB);
  const t = now();
  for (const p of paths) {
    const h = createHash('sha256');
    const fd = openSync(p, 'r');
    for (let n; (n = readSync(fd, buf, 0, buf.length, null)) > 0;) h.update(buf.subarray(0, n));
    closeSync(fd);
    h.digest('hex');
  }
  return now() - t;
}
function dropCaches() {
  if (!DROP) return false;
  try {
    run('sync', []);
    writeFileSync('/proc/sys/vm/drop_caches', '3');
    return true;
  } catch (error) {
    results.notes.push(`Could not drop the page cache (${error.code ?? error.message}); cold-cache rows are missing.`);
    return false;
  }
}

// ------------------------------------------------------------------ the benchmark

const fmtS = (s) => (s === undefined ? 'n/a' : s < 10 ? `${s.toFixed(2)} s` : `${s.toFixed(1)} s`);
function row(work, oursKey, refKey, goal) {
  const o = results.measurements[oursKey];
  const r = results.measurements[refKey];
  const ratio = o && r ? o.median / r.median : undefined;
  const cell = (m) =>
    m
      ? `${fmtS(m.median)}${m.work !== undefined ? ` [build call ${fmtS(m.work)}]` : ''}${m.rssMB ? `, ${m.rssMB.toFixed(0)} MB RSS` : ''} (N=${m.n})`
      : 'n/a';
  let ratioText = ratio === undefined ? 'n/a' : ratio.toFixed(2);
  if (ratio !== undefined && ratio < 1) ratioText += ` (${(1 / ratio).toFixed(1)}x faster)`;
  if (o?.rssMB && r?.rssMB) ratioText += `; RSS ${(o.rssMB / r.rssMB).toFixed(2)}`;
  results.rows.push({ work, ours: cell(o), ref: `${refLabel[refKey] ?? refKey}: ${cell(r)}`, ratio: ratioText, goal: goal?.(ratio, o, r) });
}
const refLabel = {};

async function main() {
  if (!existsSync(join(repo, 'packages/nx-asset-images/dist/executors/asset-image/executor.js')))
    throw new Error('run `npm run build` first');
  const load0 = loadavg()[0];
  results.env = {
    date: new Date().toISOString(),
    size: SIZE,
    weight: WEIGHT,
    runs: RUNS,
    heavyRuns: HEAVY,
    node: process.version,
    cpus: `${cpus().length} x ${cpus()[0]?.model}`,
    memGiB: (totalmem() / GiB).toFixed(0),
    loadavgStart: loadavg()
      .map((x) => x.toFixed(2))
      .join(' '),
  };
  log(`size ${SIZE} B, weight ${WEIGHT} B, runs ${RUNS}, heavy runs ${HEAVY}, loadavg ${load0}`);
  createWorkspace();
  services.start();
  results.env.docker = docker(['version', '--format', '{{.Server.Version}}']).stdout.trim();
  results.env.storageDriver = svcEnv.NXAI_DOCKER_STORAGE_DRIVER;
  const benchFiles = Object.keys(FILES).map((n) => join(ws, 'assets/bench', n));

  // 1. reference floor
  sha256Pass(benchFiles); // warm the page cache
  refLabel.sha = 'sha256 pass, node crypto, 8 MiB reads, 1 thread, page cache warm';
  await measure('sha', RUNS, () => sha256Pass(benchFiles));
  if (dropCaches()) {
    refLabel.shaCold = 'sha256 pass, page cache dropped';
    await measure(
      'shaCold',
      HEAVY,
      () => sha256Pass(benchFiles),
      () => dropCaches(),
    );
    await measure(
      'oursDigestColdPage',
      HEAVY,
      () => ours('task', false, false),
      () => {
        resetStore();
        dropCaches();
      },
    );
    sha256Pass(benchFiles);
  }

  // 2./3. our cold builds (empty stat cache and store; for load, no image in the engine)
  await measure('oursDigest', RUNS, () => ours('task', false, false), resetStore);
  await measure('oursLayout', RUNS, () => ours('task', true, false), resetStore);
  await measure(
    'oursLoad',
    RUNS,
    () => ours('task', false, true),
    () => {
      resetStore();
      removeDockerImages();
    },
  );
  await measure(
    'oursLayoutLoad',
    RUNS,
    () => ours('task', true, true),
    () => {
      resetStore();
      removeDockerImages();
    },
  );
  // phases of one cold build with layout + load, then of warm rebuilds
  resetStore();
  removeDockerImages();
  results.phasesCold = ours('phases', true, true);
  results.phasesWarm = ours('phases', true, true);
  results.phasesWarmDigest = ours('phases', false, false);
  log(`phases cold ${JSON.stringify(results.phasesCold.phases)}; warm ${JSON.stringify(results.phasesWarm.phases)}`);

  // 4. rebuild, nothing changed (warm stat cache, blobs in the store, image in the engine)
  await measure('oursRebuildDigest', RUNS, () => ours('task', false, false));
  await measure('oursRebuildLayout', RUNS, () => ours('task', true, false));
  await measure('oursRebuildLoad', RUNS, () => ours('task', true, true));
  await measure('contentKey', RUNS, () =>
    timedRss(process.execPath, [join(ws, 'node_modules/nx-asset-images/dist/bin/asset-content-key.js'), 'assets/bench'], { cwd: ws }),
  );
  nx(['run', 'bench:asset-image']); // prime the Nx cache (executes with load: false)
  await measure('nxHit', RUNS, () => nx(['run', 'bench:asset-image']));
  daemonWs = ws;
  nx(['run', 'bench:asset-image'], true);
  nx(['run', 'bench:asset-image'], true); // start + warm the daemon
  await measure('nxHitDaemon', RUNS, () => nx(['run', 'bench:asset-image'], true));
  run(process.execPath, [nxBin(ws), 'daemon', '--stop'], { cwd: ws, env: nxEnv(true), check: false });
  daemonWs = undefined;

  // 5. ours after a 1 KiB change (each run changes it again)
  await measure('oursChangeDigest', RUNS, () => ours('task', false, false), change1KiB);
  await measure('oursChangeLayout', RUNS, () => ours('task', true, false), change1KiB);
  await measure('oursChangeLoad', RUNS, () => ours('task', true, true), change1KiB);
  await measure('nxChange', RUNS, () => nx(['run', 'bench:asset-image']), change1KiB);

  // 2.-5. docker build: cold, rebuild unchanged, rebuild after the same 1 KiB change
  for (const [bk, name] of [
    [true, 'BuildKit'],
    [false, 'legacy'],
  ]) {
    const key = bk ? 'Bk' : 'Legacy';
    const build = () =>
      timed(DOCKER, ['build', '--network=host', '-q', '-t', `bench-ref:${key.toLowerCase()}`, '-f', join(tmp, 'Dockerfile'), ctx], {
        env: dockerEnv(bk),
      });
    refLabel[`docker${key}`] = `docker build ${name}, cold`;
    refLabel[`docker${key}Rebuild`] = `docker build ${name}, unchanged`;
    refLabel[`docker${key}Change`] = `docker build ${name}, after 1 KiB change`;
    await measure(`docker${key}`, HEAVY, build, removeDockerImages);
    await measure(`docker${key}Rebuild`, RUNS, build);
    await measure(`docker${key}Change`, HEAVY, build, change1KiB);
    removeDockerImages();
  }

  // 6. no-op nx run with a big gitignored weight
  const weight = join(ws, 'assets/weight/weight.bin');
  log(`writing the ${WEIGHT} B weight`);
  writeRandomFile(weight, WEIGHT);
  resetStore();
  nx(['run', 'weight:asset-image']); // cold build through Nx (fills the stat cache), then hits
  await measure('nxWeightHit', RUNS, () => nxRss(['run', 'weight:asset-image']));
  await measure('weightContentKey', RUNS, () =>
    timedRss(process.execPath, [join(ws, 'node_modules/nx-asset-images/dist/bin/asset-content-key.js'), 'assets/weight'], { cwd: ws }),
  );
  nx(['run', 'noop:noop']);
  refLabel.nxNoop = 'nx run of a cached trivial target (Nx startup)';
  await measure('nxNoop', RUNS, () => nxRss(['run', 'noop:noop']));
  writeFileSync(
    join(ws, 'assets/weight/project.json'),
    JSON.stringify(
      { name: 'weight', targets: { 'asset-image': { inputs: [{ fileset: '{projectRoot}/**/*', includeIgnored: true }] } } },
      null,
      2,
    ),
  );
  nx(['run', 'weight:asset-image']); // cache miss once (inputs changed), then hits
  refLabel.nxWeightIgnored = 'same target, inputs `{projectRoot}/**/*` includeIgnored (Nx native hasher)';
  await measure('nxWeightIgnored', RUNS, () => nxRss(['run', 'weight:asset-image']));
  const hitCheck = nx(['run', 'weight:asset-image']).stdout;
  if (!/existing outputs match the cache|local cache/i.test(hitCheck))
    results.notes.push(`WARNING: the includeIgnored run was not a cache hit:\n${hitCheck.slice(-500)}`);
  rmSync(weight, { force: true });

  results.env.loadavgEnd = loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
  report();
}

function report() {
  const M = results.measurements;
  const within = (limit) => (r) => (r === undefined ? '' : r <= limit ? `goal <= ${limit}: met` : `goal <= ${limit}: MISSED`);
  row('1. sha256 floor, page cache dropped vs warm', 'shaCold', 'sha');
  row('1. cold digest-only build, page cache dropped', 'oursDigestColdPage', 'shaCold', within(1.5));
  row('2. cold build -> OCI layout (ociLayout, no load)', 'oursLayout', 'sha', within(1.5));
  row('2. cold build digest-only (no layout, no load)', 'oursDigest', 'sha', within(1.5));
  row('2. cold build -> OCI layout vs docker build', 'oursLayout', 'dockerBk');
  row('2. cold build -> OCI layout vs docker build', 'oursLayout', 'dockerLegacy');
  row('3. cold build + docker load (ociLayout false)', 'oursLoad', 'dockerBk', within(0.25));
  row('3. cold build + docker load (ociLayout false)', 'oursLoad', 'dockerLegacy', within(0.25));
  row('3. cold build + docker load (ociLayout true)', 'oursLayoutLoad', 'dockerBk', within(0.25));
  row('3. cold build + docker load (ociLayout true)', 'oursLayoutLoad', 'dockerLegacy', within(0.25));
  row('4. rebuild unchanged: nx run (cache hit, NX_DAEMON=false)', 'nxHit', 'dockerBkRebuild');
  row('4. rebuild unchanged: nx run (cache hit, daemon warm)', 'nxHitDaemon', 'dockerBkRebuild');
  row('4. rebuild unchanged: executor, warm stat cache, digest-only', 'oursRebuildDigest', 'dockerBkRebuild');
  row('4. rebuild unchanged: executor, warm stat cache, layout', 'oursRebuildLayout', 'dockerBkRebuild');
  row('4. rebuild unchanged: executor, warm stat cache, layout + load', 'oursRebuildLoad', 'dockerBkRebuild');
  row('4. rebuild unchanged: executor, warm stat cache, layout + load', 'oursRebuildLoad', 'dockerLegacyRebuild');
  const ofCold = (coldKey) => (r, o) =>
    o && M[coldKey]
      ? `${((100 * o.median) / M[coldKey].median).toFixed(1)}% of our cold (goal < 10%: ${o.median < 0.1 * M[coldKey].median ? 'met' : 'MISSED'})`
      : '';
  row('5. 1 KiB changed: executor, digest-only', 'oursChangeDigest', 'dockerBkChange', ofCold('oursDigest'));
  row('5. 1 KiB changed: executor, layout', 'oursChangeLayout', 'dockerBkChange', ofCold('oursLayout'));
  row('5. 1 KiB changed: executor, layout + load', 'oursChangeLoad', 'dockerBkChange', ofCold('oursLayoutLoad'));
  row('5. 1 KiB changed: executor, layout + load', 'oursChangeLoad', 'dockerLegacyChange', ofCold('oursLayoutLoad'));
  row('5. 1 KiB changed: nx run (miss, layout, no load)', 'nxChange', 'dockerBkChange', ofCold('oursLayout'));
  const under = (o) => (o ? `goal < 1 s & < 250 MB: ${o.median < 1 && o.rssMB < 250 ? 'met' : 'MISSED'}` : '');
  row(
    `6. no-op nx run, ${(WEIGHT / GiB).toFixed(2)} GiB gitignored weight: our target vs includeIgnored`,
    'nxWeightHit',
    'nxWeightIgnored',
    (r, o) => under(o),
  );
  row('6. our no-op nx run vs Nx startup (trivial cached target)', 'nxWeightHit', 'nxNoop');
  row('6. runtime input script alone (asset-content-key.js, weight asset)', 'weightContentKey', 'nxNoop');

  const mb = (b) => `${(b / MiB).toFixed(0)} MiB`;
  const phases = (p) =>
    Object.entries(p.phases)
      .map(([k, v]) => `${k} ${v.toFixed(2)} s`)
      .join(', ');
  const lines = [
    `# asset-image benchmark, ${results.env.date}`,
    '',
    `Command: \`node tools/bench/asset-image.mjs ${argv.join(' ')}\`. Asset: ${mb(FILES['model-a.bin'])} + ${mb(FILES['model-b.bin'])} random + 1 KiB, 64 KiB, 256 KiB files (${(SIZE / GiB).toFixed(2)} GiB); weight for row 6: ${(WEIGHT / GiB).toFixed(2)} GiB. ` +
      `Plugin: dist built ${results.env.pluginDistBuilt} at repo commit ${results.env.repoCommit}, copied into the temp workspace at the start. Machine: ${results.env.cpus}, ${results.env.memGiB} GiB RAM, Node ${results.env.node}, dockerd ${results.env.docker} (${results.env.storageDriver}); load average ${results.env.loadavgStart} at start, ${results.env.loadavgEnd} at end (the machine is shared: expect noise). ` +
      `Times are wall clock medians of N runs (N stated per cell); ratio = ours / reference (below 1 = ours faster). Page cache warm unless stated. ` +
      `Executor rows run \`buildAssetImageTask\` in a fresh node process (tools/bench/asset-image-run.mjs): the wall time includes node startup and loading the plugin and @nx/devkit; [build call] is the time of the call alone, which is what an \`nx run\` adds to Nx's own startup.`,
    '',
    '| work | nx-asset-images | reference | ratio |',
    '| --- | --- | --- | --- |',
    ...results.rows.map((r) => `| ${r.work} | ${r.ours} | ${r.ref} | ${r.ratio}${r.goal ? `; ${r.goal}` : ''} |`),
    '',
    '## Phases (one run each, seconds inside the process; whole process wall time in brackets)',
    '',
    `- cold, layout + load: ${phases(results.phasesCold)} [${fmtS(results.phasesCold.seconds)}]`,
    `- unchanged, layout + load: ${phases(results.phasesWarm)} [${fmtS(results.phasesWarm.seconds)}]`,
    `- unchanged, digest-only: ${phases(results.phasesWarmDigest)} [${fmtS(results.phasesWarmDigest.seconds)}]`,
    `- runtime input alone (bench asset, warm stat cache): ${fmtS(M.contentKey?.median)}, ${M.contentKey?.rssMB?.toFixed(0)} MB RSS`,
    '',
    '## Notes',
    '',
    ...results.notes.map((n) => `- ${n}`),
    '',
    '## All samples (seconds)',
    '',
    ...Object.entries(M).map(
      ([k, m]) => `- ${k}: ${m.samples.map((s) => s.toFixed(3)).join(', ')}${m.rssMB ? ` (RSS median ${m.rssMB.toFixed(0)} MB)` : ''}`,
    ),
    '',
  ];
  const md = lines.join('\n');
  mkdirSync(dirname(OUT), { recursive: true });
  writeFileSync(OUT, md);
  writeFileSync(OUT.replace(/\.md$/, '.json'), `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(`${md}\n`);
  log(`wrote ${OUT}`);
}

try {
  await main();
} catch (error) {
  log(`FAILED: ${error.stack ?? error}`);
  process.exitCode = 1;
} finally {
  cleanup();
}
