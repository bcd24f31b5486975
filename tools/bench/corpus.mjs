#!/usr/bin/env node
// Issue 14's goals in one run: many small files, a one-file edit, the no-op `nx run`, one big weight against
// `docker load`, and what successive versions leave on disk. Run after `npm run build`, as root (it starts a
// private dockerd 20.10 and drops the page cache):
//
//   node tools/bench/corpus.mjs                  # 20,000 files of 24 KiB in 40 folders, 2 GiB weight, 10 versions of 64 MiB
//   node tools/bench/corpus.mjs --files 100000   # the 100k goals
//   node tools/bench/corpus.mjs --quick --weight 8MiB --versions 3 --version-size 4MiB   # smoke run: 500 files
//   options: --files 20000  --file-size 24KiB  --folders 40  --weight 2GiB (0 skips)  --versions 10 (0 skips)
//            --version-size 64MiB  --runs 3 (no-op rows)  --skip-docker-build  --no-drop-caches  --out <file.md>
//            --phases (issue 29: the corpus image's own `docker load`, a cold build without load, and the
//            per-phase split of each cold build by asset-image-run.mjs)  --skip-edit (rows 2 and 3)
//
// Everything happens in a real Nx temp workspace (node_modules symlinked to this repo, git repository, the
// data files gitignored) with the asset-image target's defaults plus `load: true`; every temp dir is removed and
// the private dockerd stopped at the end, also on failure and SIGINT/SIGTERM.
// Results: tools/bench/results/corpus-<date>[-quick].md (also printed) and .json (every sample).
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  benchNx,
  benchRun,
  cliArgs,
  DOCKER,
  dropCaches as dropPageCache,
  forgetImages,
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
const { argv, flag, opt } = cliArgs();
const quick = flag('quick');
const FILES = Number(opt('files', quick ? '500' : '20000'));
const FILE_SIZE = parseSize(opt('file-size', '24KiB'));
const FOLDERS = Number(opt('folders', '40'));
const WEIGHT = parseSize(opt('weight', quick ? '64MiB' : '2GiB'));
const VERSIONS = Number(opt('versions', quick ? '3' : '10'));
const VERSION_SIZE = parseSize(opt('version-size', quick ? '4MiB' : '64MiB'));
const RUNS = Number(opt('runs', quick ? '2' : '3'));
const DOCKER_BUILD = !flag('skip-docker-build');
const DROP = !flag('no-drop-caches');
/** Issue 29's profile: the corpus image's own `docker load`, a cold build without load, and a per-phase split of each cold build. */
const PHASES = flag('phases');
const SKIP_EDIT = flag('skip-edit');
for (const [name, value, min] of [
  ['files', FILES, 1],
  ['folders', FOLDERS, 1],
  ['runs', RUNS, 1],
  ['versions', VERSIONS, 0],
]) {
  if (!Number.isInteger(value) || value < min) throw new Error(`--${name} ${value}: expected an integer >= ${min}`);
}
const today = new Date().toISOString().slice(0, 10);
const OUT = opt('out', join(here, 'results', `corpus-${today}${quick ? '-quick' : ''}.md`));

const { tmp, services, svc, cleanup } = benchRun('/tmp/nxai-corpus-bench-');
const ws = join(tmp, 'ws');
const CORPUS = 'assets/corpus';
const REPOS = {
  corpus: 'localhost:5000/asset/corpus',
  weight: 'localhost:5000/asset/weight',
  versions: 'localhost:5000/asset/versions',
};
const REF_IMAGE = 'nxai-bench.invalid/corpus-ref';

// ------------------------------------------------------------------ helpers

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmtS = (s) => (s === undefined ? 'n/a' : s < 10 ? `${s.toFixed(2)} s` : `${s.toFixed(1)} s`);
const fmtB = (b) => (b < MiB ? `${(b / 1024).toFixed(1)} KiB` : b < GiB ? `${(b / MiB).toFixed(1)} MiB` : `${(b / GiB).toFixed(2)} GiB`);
const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
/** Lets a SIGINT/SIGTERM sent to this process alone be handled (spawnSync blocks the handlers until it returns). */
const tick = () => new Promise((resolve) => setImmediate(resolve));

const dockerEnv = (buildkit) => {
  const env = { ...process.env, ...svc };
  if (buildkit === undefined) delete env.DOCKER_BUILDKIT;
  else env.DOCKER_BUILDKIT = buildkit ? '1' : '0';
  return env;
};
const docker = (args, check = true, buildkit) => timed(DOCKER, args, { env: dockerEnv(buildkit), check });

const nxTimed = benchNx(svc);
const nx = (args) => nxTimed(ws, args);
/** `nx` with wall time and peak RSS (GNU time: the largest process of the tree; with NX_DAEMON=false Nx hashes in its own). */
function nxRss(args) {
  const file = join(tmp, 'time-v.txt');
  const env = { ...process.env, ...svc, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false', CI: 'false' };
  env.NX_CACHE_DIRECTORY = join(ws, '.nx', 'cache');
  env.PATH = `${dirname(DOCKER)}:${process.env.PATH ?? ''}`;
  delete env.NX_SKIP_NX_CACHE;
  const t = now();
  const r = run('/usr/bin/time', ['-v', '-o', file, process.execPath, join(ws, 'node_modules', 'nx', nxBinRelative()), ...args], {
    cwd: ws,
    env,
  });
  const seconds = now() - t;
  const kb = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(readFileSync(file, 'utf8'))?.[1]);
  return { seconds, rssMB: kb / 1024, stdout: r.stdout };
}

const results = { env: {}, measurements: {}, rows: [], goals: [], notes: [] };
let dropWarned = false;
function dropCaches() {
  if (!DROP) return;
  if (dropPageCache().status !== 0 && !dropWarned) {
    dropWarned = true;
    results.notes.push('Could not drop the page cache (not root?): the "page cache dropped" rows ran warm.');
  }
}
function record(key, value) {
  results.measurements[key] = value;
  const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  log(`${key}: ${text.length > 300 ? `${text.slice(0, 300)}...` : text}`);
  return value;
}
/** Runs `fn` n times, keeps every sample; returns median seconds (and median RSS when the samples have one). */
async function repeat(key, n, fn) {
  const samples = [];
  for (let i = 0; i < n; i++) {
    samples.push(fn(i));
    await tick();
  }
  const m = { median: median(samples.map((s) => s.seconds)), samples: samples.map((s) => s.seconds), n };
  if (samples[0].rssMB !== undefined) {
    m.rssMB = median(samples.map((s) => s.rssMB));
    m.rssSamples = samples.map((s) => s.rssMB);
  }
  return record(key, m);
}
/** One cold build through asset-image-run.mjs (`phases`: step by step; `task`: the executor), page cache dropped. */
function coldPhases(project, mode) {
  coldState(project);
  dropCaches();
  const env = { ...process.env, ...svc, PATH: `${dirname(DOCKER)}:${process.env.PATH ?? ''}` };
  const r = run(process.execPath, [join(here, 'asset-image-run.mjs'), mode, ws, `assets/${project}/asset.json`, 'false', 'true'], {
    cwd: ws,
    env,
  });
  return JSON.parse(r.stdout.trim().split('\n').at(-1));
}
/** `docker save` of the image just built, removed, page cache dropped, `docker load -i`: Docker's own load of the same bytes. */
function dockerOwnLoad(project) {
  const image = imageJson(project);
  const ref = `${REPOS[project]}:${image.contentTag}`;
  const tar = join(tmp, `${project}-image.tar`);
  docker(['save', '-o', tar, ref]);
  const bytes = statSync(tar).size;
  forgetImages(docker, REPOS[project]);
  dropCaches();
  const seconds = docker(['load', '-q', '-i', tar]).seconds;
  rmSync(tar, { force: true });
  return { seconds, bytes };
}
const duBytes = (path) => (existsSync(path) ? Number(run('du', ['-sb', path]).stdout.split(/\s/)[0]) : 0);
const imageJson = (project) => JSON.parse(readFileSync(join(ws, 'dist', 'asset-images', project, 'image.json'), 'utf8'));
const layerBytes = (image) => image.layers.reduce((sum, layer) => sum + layer.size, 0);
const isHit = (stdout) => /existing outputs match the cache|local cache|remote cache/i.test(stdout);

// ------------------------------------------------------------------ workspace

const corpusPaths = [];
function createWorkspace() {
  log(`workspace ${ws}`);
  const w = (file, content) => {
    mkdirSync(dirname(join(ws, file)), { recursive: true });
    writeFileSync(join(ws, file), content);
  };
  w('package.json', JSON.stringify({ name: 'corpus-bench', version: '0.0.0', private: true }, null, 2));
  w(
    'nx.json',
    JSON.stringify(
      {
        plugins: [{ plugin: 'nx-asset-images', options: {} }],
        targetDefaults: { 'asset-image': { options: { load: true } } },
      },
      null,
      2,
    ),
  );
  // the data files are gitignored: the target's runtime input (stat cache) covers them, not Nx's file hasher
  w('.gitignore', '/node_modules\n/.nx\n/.asset-images\n/dist\n*.dat\n*.bin\n');
  w(`${CORPUS}/asset.json`, JSON.stringify({ name: 'corpus', image: REPOS.corpus, tags: ['0.1'], files: ['**/*'] }, null, 2));
  w('assets/weight/asset.json', JSON.stringify({ name: 'weight', image: REPOS.weight, tags: ['0.1'] }, null, 2));
  w('assets/versions/asset.json', JSON.stringify({ name: 'versions', image: REPOS.versions, tags: ['0.1'] }, null, 2));
  w(
    'tools/noop/project.json',
    JSON.stringify(
      { name: 'noop', targets: { noop: { executor: 'nx:run-commands', options: { command: 'true' }, cache: true, inputs: [] } } },
      null,
      2,
    ),
  );
  log(`writing ${FILES} files of ${FILE_SIZE} B in ${FOLDERS} folders`);
  const width = String(FILES - 1).length;
  for (let f = 0; f < FOLDERS; f++) mkdirSync(join(ws, CORPUS, `d${String(f).padStart(2, '0')}`), { recursive: true });
  const POOL = 64 * MiB;
  let pool = randomBytes(Math.min(POOL, FILES * FILE_SIZE));
  let offset = 0;
  for (let i = 0; i < FILES; i++) {
    if (offset + FILE_SIZE > pool.length) {
      pool = randomBytes(Math.min(POOL, Math.max(FILE_SIZE, (FILES - i) * FILE_SIZE)));
      offset = 0;
    }
    const rel = join(`d${String(i % FOLDERS).padStart(2, '0')}`, `f${String(i).padStart(width, '0')}.dat`);
    writeFileSync(join(ws, CORPUS, rel), pool.subarray(offset, offset + FILE_SIZE));
    offset += FILE_SIZE;
    corpusPaths.push(rel);
  }
  corpusPaths.sort();
  linkBenchNodeModules(ws);
  results.env.pluginDistBuilt = statSync(join(repo, 'packages/nx-asset-images/dist/executors/asset-image/executor.js')).mtime.toISOString();
  results.env.repoCommit = run('git', ['rev-parse', '--short', 'HEAD']).stdout.trim();
  const git = (...a) =>
    run('git', ['-c', 'user.name=bench', '-c', 'user.email=bench@invalid', '-c', 'commit.gpgsign=false', ...a], {
      cwd: ws,
      env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1' },
    });
  git('init', '-q', '-b', 'main');
  git('add', '-A');
  git('commit', '-q', '-m', 'initial');
  writeFileSync(join(tmp, 'Dockerfile'), 'FROM scratch\nCOPY . /\n');
}

/** Rewrites one file in place: same size, same inode, new random content. */
function rewrite(path, size) {
  const fd = openSync(path, 'r+');
  writeSync(fd, randomBytes(size), 0, size, 0);
  closeSync(fd);
}

/** No store, no result, no Nx cache, none of the project's images in Docker. */
function coldState(project) {
  rmSync(join(ws, '.asset-images'), { recursive: true, force: true });
  rmSync(join(ws, 'dist'), { recursive: true, force: true });
  rmSync(join(ws, '.nx', 'cache'), { recursive: true, force: true });
  forgetImages(docker, REPOS[project]);
}

const dockerBuild = (buildkit, tag) =>
  docker(['build', '--network=host', '-q', '-t', `${REF_IMAGE}:${tag}`, '-f', join(tmp, 'Dockerfile'), join(ws, CORPUS)], true, buildkit);
function dockerCold() {
  forgetImages(docker, REF_IMAGE);
  docker(['builder', 'prune', '-af'], false);
  dropCaches();
}

// ------------------------------------------------------------------ the benchmark

async function main() {
  if (!existsSync(join(repo, 'packages/nx-asset-images/dist/executors/asset-image/executor.js')))
    throw new Error('run `npm run build` first');
  Object.assign(results.env, {
    date: new Date().toISOString(),
    files: FILES,
    fileSize: FILE_SIZE,
    folders: FOLDERS,
    weight: WEIGHT,
    versions: VERSIONS,
    versionSize: VERSION_SIZE,
    runs: RUNS,
    node: process.version,
    cpus: `${cpus().length} x ${cpus()[0]?.model}`,
    memGiB: (totalmem() / GiB).toFixed(0),
    loadavgStart: load(),
  });
  log(
    `files ${FILES} x ${FILE_SIZE} B in ${FOLDERS} folders, weight ${WEIGHT} B, ${VERSIONS} versions of ${VERSION_SIZE} B, loadavg ${results.env.loadavgStart}`,
  );
  createWorkspace();
  services.start();
  results.env.docker = docker(['version', '--format', '{{.Server.Version}}']).stdout.trim();
  results.env.storageDriver = svc.NXAI_DOCKER_STORAGE_DRIVER;

  // 1. cold builds: the floor, docker build (legacy, then BuildKit: its build cache serves row 2's reference), ours
  dropCaches();
  record('floorTar', {
    seconds: timed('bash', ['-c', 'set -o pipefail; tar -cf - . | sha256sum >/dev/null'], { cwd: join(ws, CORPUS) }).seconds,
  });
  await tick();
  if (DOCKER_BUILD) {
    dockerCold();
    record('dockerLegacyCold', { seconds: dockerBuild(false, 'legacy').seconds });
    await tick();
    dockerCold();
    record('dockerBkCold', { seconds: dockerBuild(true, 'buildkit').seconds });
    await tick();
  }
  coldState('corpus');
  dropCaches();
  const cold = nx(['run', 'corpus:asset-image']);
  const before = imageJson('corpus');
  record('oursCold', { seconds: cold.seconds, layers: before.layers.length, layerBytes: layerBytes(before) });
  record('corpusStoreBytes', duBytes(join(ws, '.asset-images')));
  await tick();
  if (PHASES) {
    record('dockerLoadCorpus', dockerOwnLoad('corpus'));
    coldState('corpus');
    dropCaches();
    record('oursColdNoLoad', { seconds: nx(['run', 'corpus:asset-image', '--load=false']).seconds });
    record('phasesCorpus', coldPhases('corpus', 'phases'));
    if (existsSync(join(repo, 'packages/nx-asset-images/dist/asset-image/streamed-load.js')))
      record('streamedCorpus', coldPhases('corpus', 'streamed'));
    coldState('corpus');
    nx(['run', 'corpus:asset-image']);
    await tick();
  }

  if (!SKIP_EDIT) {
    // 2. one file rewritten in place (same size, new content), the one in the middle of the path order
    const edited = corpusPaths[Math.floor(corpusPaths.length / 2)];
    rewrite(join(ws, CORPUS, edited), FILE_SIZE);
    const edit = nx(['run', 'corpus:asset-image']);
    if (isHit(edit.stdout)) results.notes.push('WARNING: the run after the one-file edit was an Nx cache hit.');
    const after = imageJson('corpus');
    const old = new Set(before.layers.map((l) => l.digest));
    const remade = after.layers.filter((l) => !old.has(l.digest));
    record('oursEdit', {
      seconds: edit.seconds,
      file: edited,
      layers: after.layers.length,
      layersRemade: remade.length,
      bytesRemade: layerBytes({ layers: remade }),
      layerBytes: layerBytes(after),
    });
    await tick();
    if (DOCKER_BUILD) {
      record('dockerBkEdit', { seconds: dockerBuild(true, 'buildkit').seconds });
      forgetImages(docker, REF_IMAGE);
      docker(['builder', 'prune', '-af'], false);
      await tick();
    }

    // 3. no-op nx run (cache hit) against the Nx floor: a cached trivial nx:run-commands target
    nx(['run', 'corpus:asset-image']);
    nx(['run', 'noop:noop']);
    await repeat('nxHit', RUNS, () => nxRss(['run', 'corpus:asset-image']));
    await repeat('nxNoop', RUNS, () => nxRss(['run', 'noop:noop']));
    const hitCheck = nx(['run', 'corpus:asset-image']).stdout;
    if (!isHit(hitCheck)) results.notes.push(`WARNING: the no-op corpus run was not an Nx cache hit:\n${hitCheck.slice(-500)}`);
  }

  // 4. one big weight: cold build + load against docker load of the same image, and the store's extra disk
  if (WEIGHT > 0) {
    log(`writing the ${WEIGHT} B weight`);
    const weight = join(ws, 'assets/weight/weight.bin');
    writeRandomFile(weight, WEIGHT);
    coldState('weight');
    dropCaches();
    const w = nx(['run', 'weight:asset-image']);
    const image = imageJson('weight');
    record('weightCold', { seconds: w.seconds, layerBytes: layerBytes(image), layers: image.layers.length });
    record('weightStoreBytes', duBytes(join(ws, '.asset-images')));
    if (PHASES) {
      record('phasesWeight', coldPhases('weight', 'phases'));
      if (existsSync(join(repo, 'packages/nx-asset-images/dist/asset-image/streamed-load.js')))
        record('streamedWeight', coldPhases('weight', 'streamed'));
      coldState('weight');
      nx(['run', 'weight:asset-image']);
    }
    const ref = `${REPOS.weight}:${image.contentTag}`;
    const tar = join(tmp, 'weight-image.tar');
    docker(['save', '-o', tar, ref]);
    record('weightSaveTarBytes', statSync(tar).size);
    forgetImages(docker, REPOS.weight);
    dropCaches();
    record('dockerLoad', { seconds: docker(['load', '-q', '-i', tar]).seconds });
    rmSync(tar, { force: true });
    rmSync(weight, { force: true });
    forgetImages(docker, REPOS.weight);
    await tick();
  }

  // 5. successive versions of one weight: what the store and Docker keep
  if (VERSIONS > 0) {
    rmSync(join(ws, '.asset-images'), { recursive: true, force: true });
    forgetImages(docker, REPOS.versions);
    const model = join(ws, 'assets/versions/model.bin');
    const times = [];
    for (let v = 1; v <= VERSIONS; v++) {
      log(`version ${v}/${VERSIONS}`);
      writeRandomFile(model, VERSION_SIZE);
      times.push(nx(['run', 'versions:asset-image']).seconds);
      await tick();
    }
    const image = imageJson('versions');
    const lines = docker(['image', 'ls', REPOS.versions, '--format', '{{.ID}} {{.Tag}}'])
      .stdout.split('\n')
      .filter(Boolean)
      .map((l) => l.split(' '));
    const contentIds = [...new Set(lines.filter(([, tag]) => /^sha256-[0-9a-f]+$/.test(tag)).map(([id]) => id))];
    const allIds = [...new Set(lines.map(([id]) => id))];
    const sizes = allIds.length
      ? docker(['image', 'inspect', '-f', '{{.Size}}', ...allIds])
          .stdout.split('\n')
          .filter(Boolean)
          .map(Number)
      : [];
    record('versions', {
      buildSeconds: times,
      storeBytes: duBytes(join(ws, '.asset-images')),
      imageBytes: layerBytes(image),
      dockerImages: allIds.length,
      dockerContentTagged: contentIds.length,
      dockerBytes: sizes.reduce((a, b) => a + b, 0),
      dockerTags: lines.length,
    });
    forgetImages(docker, REPOS.versions);
  }
  results.env.loadavgEnd = load();
  report();
}

// ------------------------------------------------------------------ report

const phaseText = (m) =>
  Object.entries(m.phases)
    .map(([name, seconds]) => `${name} ${seconds.toFixed(2)} s`)
    .join(', ');

function report() {
  const M = results.measurements;
  const rows = results.rows;
  const ratio = (a, b) => (a !== undefined && b ? a / b : undefined);
  const fmtR = (r) => (r === undefined ? 'n/a' : r < 1 ? `${r.toFixed(2)} (${(1 / r).toFixed(1)}x faster)` : r.toFixed(2));
  const add = (row, what, time, ratioText, notes = '') => rows.push({ row, what, time, ratio: ratioText, notes });
  const goal = (text, met) => results.goals.push({ text, met });
  const corpusText = `${FILES} files x ${fmtB(FILE_SIZE)} in ${FOLDERS} folders (${fmtB(FILES * FILE_SIZE)})`;

  const c = M.oursCold;
  add(
    '1',
    `cold \`nx run corpus:asset-image\` + load, ${corpusText}`,
    fmtS(c.seconds),
    '1',
    `layers: ${c.layers}, ${fmtB(c.layerBytes)}; store after: ${fmtB(M.corpusStoreBytes)}`,
  );
  add(
    '1',
    'floor: `tar -cf - <folder> \\| sha256sum` (bash)',
    fmtS(M.floorTar.seconds),
    fmtR(ratio(c.seconds, M.floorTar.seconds)),
    'ratio = ours / floor',
  );
  for (const [key, name] of [
    ['dockerBkCold', 'BuildKit'],
    ['dockerLegacyCold', 'legacy builder'],
  ]) {
    if (M[key])
      add(
        '1',
        `\`docker build\` ${name}, \`FROM scratch\` + \`COPY . /\`, cold`,
        fmtS(M[key].seconds),
        fmtR(ratio(c.seconds, M[key].seconds)),
        'ratio = ours / docker build',
      );
  }
  if (M.dockerLoadCorpus)
    add(
      '1',
      '`docker load -i` of the same image (`docker save` tar, image removed, page cache dropped)',
      fmtS(M.dockerLoadCorpus.seconds),
      fmtR(ratio(c.seconds, M.dockerLoadCorpus.seconds)),
      `ratio = ours / docker load; tar ${fmtB(M.dockerLoadCorpus.bytes)}`,
    );
  if (M.oursColdNoLoad)
    add(
      '1',
      'cold `nx run corpus:asset-image --load=false` (no Docker)',
      fmtS(M.oursColdNoLoad.seconds),
      fmtR(ratio(M.oursColdNoLoad.seconds, M.floorTar.seconds)),
      'ratio = ours / tar floor',
    );
  for (const [key, what] of [
    ['phasesCorpus', 'corpus, step by step (asset-image-run.mjs phases)'],
    ['streamedCorpus', 'corpus, streamed load (asset-image-run.mjs streamed)'],
  ]) {
    if (M[key]) add('1', `phases: ${what}`, fmtS(M[key].inProcessSeconds), '', phaseText(M[key]));
  }
  if (M.oursEdit) {
    const e = M.oursEdit;
    const timeFrac = e.seconds / c.seconds;
    const byteFrac = e.bytesRemade / e.layerBytes;
    add(
      '2',
      `one file rewritten (${e.file}), \`nx run\` + load`,
      fmtS(e.seconds),
      `${(100 * timeFrac).toFixed(1)}% of cold`,
      `${e.layersRemade} of ${e.layers} layers re-made: ${fmtB(e.bytesRemade)} of ${fmtB(e.layerBytes)} (${(100 * byteFrac).toFixed(2)}% of layer bytes)`,
    );
    if (M.dockerBkEdit)
      add(
        '2',
        '`docker build` BuildKit after the same edit (warm build cache)',
        fmtS(M.dockerBkEdit.seconds),
        fmtR(ratio(e.seconds, M.dockerBkEdit.seconds)),
        'ratio = ours / docker build',
      );
    const h = M.nxHit;
    const n = M.nxNoop;
    const diff = h.median - n.median;
    add(
      '3',
      `no-op \`nx run corpus:asset-image\` (cache hit, NX_DAEMON=false), median of ${h.n}`,
      fmtS(h.median),
      fmtR(ratio(h.median, n.median)),
      `+${diff.toFixed(2)} s over the Nx floor; peak RSS ${h.rssMB.toFixed(0)} MB`,
    );
    add(
      '3',
      `Nx floor: cached trivial \`nx:run-commands\` target, median of ${n.n}`,
      fmtS(n.median),
      '1',
      `peak RSS ${n.rssMB.toFixed(0)} MB`,
    );
    const diffLimit = FILES > 20000 ? 1 : 0.5;
    goal(
      `row 3: no-op within ${diffLimit} s of the Nx floor at ${FILES} files (goal: 0.5 s at 20k, 1 s at 100k): +${diff.toFixed(2)} s`,
      diff <= diffLimit,
    );
    goal(`row 3: no-op peak RSS under 250 MB (the goal is set at 100k files; here ${FILES}): ${h.rssMB.toFixed(0)} MB`, h.rssMB < 250);
  }
  if (M.weightCold) {
    const wc = M.weightCold;
    add(
      '4',
      `cold \`nx run weight:asset-image\` + load, one ${fmtB(WEIGHT)} random weight, page cache dropped`,
      fmtS(wc.seconds),
      fmtR(ratio(wc.seconds, M.dockerLoad.seconds)),
      `ratio = ours / docker load; layers: ${wc.layers}, ${fmtB(wc.layerBytes)}`,
    );
    add(
      '4',
      '`docker load -i` of the same image (`docker save` tar, image removed, page cache dropped)',
      fmtS(M.dockerLoad.seconds),
      '1',
      `tar ${fmtB(M.weightSaveTarBytes)}`,
    );
    add(
      '4',
      'extra disk: `du -sb .asset-images` after the cold build',
      fmtB(M.weightStoreBytes),
      `${((100 * M.weightStoreBytes) / wc.layerBytes).toFixed(2)}% of the image`,
      'no time: a size',
    );
    for (const [key, what] of [
      ['phasesWeight', 'weight, step by step (asset-image-run.mjs phases)'],
      ['streamedWeight', 'weight, streamed load (asset-image-run.mjs streamed)'],
    ]) {
      if (M[key]) add('4', `phases: ${what}`, fmtS(M[key].inProcessSeconds), '', phaseText(M[key]));
    }
    goal(
      `row 4: the store holds at most a few MiB (<= 4 MiB) beside a ${fmtB(WEIGHT)} weight: ${fmtB(M.weightStoreBytes)}`,
      M.weightStoreBytes <= 4 * MiB,
    );
  }
  if (M.versions) {
    const v = M.versions;
    add(
      '5',
      `${VERSIONS} versions of a ${fmtB(VERSION_SIZE)} weight, each built with \`nx run\` + load`,
      `median ${fmtS(median(v.buildSeconds))} per build`,
      `store ${(v.storeBytes / v.imageBytes).toFixed(2)}x the image`,
      `\`du -sb .asset-images\` ${fmtB(v.storeBytes)}; current image ${fmtB(v.imageBytes)} (layers in image.json)`,
    );
    add(
      '5',
      `Docker images of ${REPOS.versions}`,
      'no time: a size',
      `${(v.dockerBytes / v.imageBytes).toFixed(2)}x the image`,
      `${v.dockerImages} images (${v.dockerContentTagged} with a content tag, ${v.dockerTags} tags), ${fmtB(v.dockerBytes)} by \`docker image inspect\` Size`,
    );
  }

  const lines = [
    `# corpus benchmark (issue 14), ${results.env.date}`,
    '',
    `Command: \`node tools/bench/corpus.mjs ${argv.join(' ')}\`. Corpus: ${corpusText}, random content, gitignored. ` +
      `Plugin: dist built ${results.env.pluginDistBuilt} at repo commit ${results.env.repoCommit}, copied into the temp workspace at the start. ` +
      `Machine: ${results.env.cpus}, ${results.env.memGiB} GiB RAM, Node ${results.env.node}, dockerd ${results.env.docker} (${results.env.storageDriver}); ` +
      `load average ${results.env.loadavgStart} at start, ${results.env.loadavgEnd} at end (the machine is shared: compare ratios of one run). ` +
      `Cold rows start with the page cache dropped${DROP ? '' : ' (not here: --no-drop-caches)'}; \`nx run\` with NX_DAEMON=false and the target's defaults plus \`load: true\`; one sample per row except row 3.`,
    '',
    '| row | what | time | ratio | notes |',
    '| --- | --- | --- | --- | --- |',
    ...rows.map((r) => `| ${r.row} | ${r.what} | ${r.time} | ${r.ratio} | ${r.notes} |`),
    '',
    '## Goals',
    '',
    ...results.goals.map((g) => `- ${g.met ? 'met' : 'MISSED'}: ${g.text}`),
    '',
    ...(results.notes.length ? ['## Notes', '', ...results.notes.map((t) => `- ${t}`), ''] : []),
    '## Samples',
    '',
    ...Object.entries(M).map(([k, m]) => `- ${k}: ${JSON.stringify(m)}`),
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
