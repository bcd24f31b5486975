#!/usr/bin/env node
// Benchmark of a clone without the weights (the registry as the asset's store), in one run.
// Run after `npm run build`, as root (it starts a private dockerd and registries):
//
//   node tools/bench/registry-store.mjs            # 2 GiB asset (one 2 GiB weight + a config)
//   node tools/bench/registry-store.mjs --quick    # 256 MiB asset (smoke run)
//   options: --size 2GiB  --out <file.md>
//
// The machine with the weights builds and pushes; a git clone without them then runs, side by side:
//   1. the first `nx run api:docker-build` (Docker lacks the asset image; it comes from the registry)
//      (1b: the same split into asset-image, then docker-build, on another fresh clone);
//      vs `docker pull <asset>:0.1` + `docker build` of the same app Dockerfile (the reference);
//   2. `nx run bench:asset-pull` (the weight into the folder) vs `curl` GETs of the same blobs from
//      the same registry into files;
//   3. a no-op `nx run bench:asset-image` (cache hit) on the clone vs the same on the machine with
//      the weights.
// Each measurement starts from a fresh clone (no layout store, no Nx cache) where it says so.
// Results: tools/bench/results/registry-store-<date>[-quick].md

import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  benchNx,
  benchRun,
  cliArgs,
  DOCKER,
  dropCaches,
  forgetImages,
  GiB,
  linkBenchNodeModules,
  log,
  MiB,
  parseSize,
  repo,
  run,
  timed,
  writeRandomFile,
} from './lib.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const { flag, opt } = cliArgs();
const quick = flag('quick');
const SIZE = parseSize(opt('size', quick ? '256MiB' : '2GiB'));
const today = new Date().toISOString().slice(0, 10);
const OUT = opt('out', join(here, 'results', `registry-store-${today}${quick ? '-quick' : ''}.md`));

const { tmp, services, svc, cleanup } = benchRun('/tmp/nxai-storebench-');

const dockerEnv = () => ({ ...process.env, ...svc, DOCKER_BUILDKIT: '0' });
const docker = (args, check = true) => timed(DOCKER, args, { env: dockerEnv(), check });

// The reference's docker: Docker 20.10's own CLI (first on PATH) and its legacy builder.
const nx = benchNx(svc, { DOCKER_BUILDKIT: '0' });
const git = (cwd, ...a) =>
  run('git', ['-c', 'user.name=bench', '-c', 'user.email=bench@invalid', '-c', 'commit.gpgsign=false', ...a], {
    cwd,
    env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1' },
  });

function createWorkspace(ws, image, appTag) {
  const w = (file, content) => {
    mkdirSync(dirname(join(ws, file)), { recursive: true });
    writeFileSync(join(ws, file), content);
  };
  w('package.json', JSON.stringify({ name: 'bench', version: '0.0.0', private: true }, null, 2));
  w('nx.json', JSON.stringify({ plugins: [{ plugin: 'nx-asset-images', options: {} }] }, null, 2));
  w('.gitignore', '/node_modules\n/.nx\n/.asset-images\n/dist\nweights/\n');
  w('assets/bench/asset.json', JSON.stringify({ name: 'bench', image, tags: ['0.1'] }, null, 2));
  w('assets/bench/config.json', '{"hidden_size": 768}\n');
  mkdirSync(join(ws, 'assets/bench/weights'), { recursive: true });
  writeRandomFile(join(ws, 'assets/bench/weights/model.bin'), SIZE);
  w(
    'apps/api/project.json',
    JSON.stringify({ name: 'api', root: 'apps/api', targets: { 'docker-build': { options: { network: 'host', tags: [appTag] } } } }),
  );
  w('apps/api/Dockerfile', `FROM busybox\nCOPY --from=${image}:0.1 / /assets/bench/\n`);
  linkBenchNodeModules(ws);
  git(ws, 'init', '-q', '-b', 'main');
  git(ws, 'add', '-A');
  git(ws, 'commit', '-q', '-m', 'initial');
}

let clones = 0;
function cloneOf(ws) {
  const root = join(tmp, `clone-${++clones}`);
  git(tmp, 'clone', '-q', ws, root);
  symlinkSync(join(ws, 'node_modules'), join(root, 'node_modules'), 'dir');
  return root;
}

const forget = (...refs) => forgetImages(docker, ...refs);
const fmt = (s) => `${s.toFixed(2)} s`;
const ratio = (ours, ref) => (ours / ref).toFixed(2);

async function main() {
  const env = {
    cpus: cpus().length,
    memGiB: (totalmem() / GiB).toFixed(1),
    loadStart: loadavg()
      .map((x) => x.toFixed(2))
      .join(' '),
    commit: run('git', ['rev-parse', '--short', 'HEAD']).stdout.trim(),
  };
  services.start();
  const REG = svc.NXAI_REGISTRY;
  const IMAGE = `${REG}/bench/store`;
  const APP = 'bench/store-app';
  const ws = join(tmp, 'ws');
  log(`workspace ${ws}, weight ${SIZE} B`);
  createWorkspace(ws, IMAGE, APP);
  nx(ws, ['run', 'bench:asset-push']);
  git(ws, 'add', '-A');
  git(ws, 'commit', '-q', '-m', 'lock');
  const lock = JSON.parse(readFileSync(join(ws, 'assets/bench/asset.lock.json'), 'utf8'));
  const blobs = lock.image.layers;

  // 1. first app build on a clone without the weights vs docker pull + docker build.
  const c1 = cloneOf(ws);
  forget(IMAGE, APP);
  dropCaches();
  const first = nx(c1, ['run', 'api:docker-build']);
  const ours1 = first.seconds;
  if (process.env.BENCH_SHOW_OUTPUT) log(first.stdout + (first.stderr ?? ''));
  const sum = docker(['run', '--rm', '--network=none', APP, 'sha256sum', '/assets/bench/weights/model.bin']).stdout.split(' ')[0];
  if (sum !== lock.files['weights/model.bin'].sha256) throw new Error(`app image weight ${sum} is not the locked one`);
  forget(IMAGE, APP);
  const ctx = join(tmp, 'ctx');
  mkdirSync(ctx);
  writeFileSync(join(ctx, 'Dockerfile'), `FROM busybox\nCOPY --from=${IMAGE}:0.1 / /assets/bench/\n`);
  dropCaches();
  const pull = docker(['pull', '-q', `${IMAGE}:0.1`]).seconds;
  const build = docker(['build', '-q', '--network=host', '-t', APP, ctx]).seconds;
  const ref1 = pull + build;
  forget(IMAGE, APP);

  // 1b. where the time of 1 goes: on another fresh clone, asset-image (fetch + docker load) alone, then docker-build.
  const c1b = cloneOf(ws);
  forget(IMAGE, APP);
  dropCaches();
  const oursImage = nx(c1b, ['run', 'bench:asset-image']).seconds;
  const oursBuild = nx(c1b, ['run', 'api:docker-build']).seconds;
  forget(IMAGE, APP);

  // 2. asset-pull vs curl GETs of the same blobs.
  const c2 = cloneOf(ws);
  dropCaches();
  const ours2 = nx(c2, ['run', 'bench:asset-pull']).seconds;
  const weightLayers = blobs.filter((l) => l.files.some((f) => f.startsWith('weights/')));
  dropCaches();
  let ref2 = 0;
  for (const layer of weightLayers) {
    ref2 += timed('curl', [
      '-sS',
      '-f',
      '-o',
      join(tmp, `blob-${layer.digest.slice(7, 19)}`),
      `http://${REG}/v2/bench/store/blobs/${layer.digest}`,
    ]).seconds;
  }

  // 3. no-op asset-image (cache hit) without the weights vs with them.
  const c3 = cloneOf(ws);
  nx(c3, ['run', 'bench:asset-image', '--load=false']);
  nx(ws, ['run', 'bench:asset-image', '--load=false']);
  const noop = (root) => {
    const xs = [0, 1, 2].map(() => nx(root, ['run', 'bench:asset-image', '--load=false']).seconds).sort((a, b) => a - b);
    return xs[1];
  };
  const ours3 = noop(c3);
  const ref3 = noop(ws);

  const rows = [
    [
      '1. first `nx run api:docker-build`, clone without the weights, page cache dropped',
      fmt(ours1),
      `docker pull + docker build (legacy): ${fmt(pull)} + ${fmt(build)} = ${fmt(ref1)}`,
      ratio(ours1, ref1),
      'no slower (<= 1.00)',
    ],
    [
      '1b. the same on another fresh clone, in two steps: `nx run bench:asset-image` (fetch + docker load), then `nx run api:docker-build`',
      `${fmt(oursImage)} + ${fmt(oursBuild)} = ${fmt(oursImage + oursBuild)}`,
      `docker pull ${fmt(pull)} / docker build ${fmt(build)}`,
      `${ratio(oursImage, pull)} / ${ratio(oursBuild, build)}`,
      '(where the time goes)',
    ],
    [
      '2. `nx run bench:asset-pull` (whole nx run), page cache dropped',
      fmt(ours2),
      `curl GET of the ${weightLayers.length} weight blob(s): ${fmt(ref2)}`,
      ratio(ours2, ref2),
      'within 1.3x',
    ],
    [
      '3. no-op `nx run bench:asset-image` (cache hit), median of 3',
      `without the weights: ${fmt(ours3)}`,
      `with the weights: ${fmt(ref3)}`,
      ratio(ours3, ref3),
      'no slower (<= 1.00)',
    ],
  ];
  const md = [
    `# registry-as-store benchmark, ${new Date().toISOString()}`,
    '',
    `Command: \`node tools/bench/registry-store.mjs${quick ? ' --quick' : ''}\`. Asset: one ${(SIZE / MiB).toFixed(0)} MiB random weight (gitignored) + a config; plugin at commit ${env.commit}. Machine: ${env.cpus} CPUs, ${env.memGiB} GiB, load average ${env.loadStart} at start, ${loadavg()
      .map((x) => x.toFixed(2))
      .join(
        ' ',
      )} at end; dockerd and registry from tools/test-services.sh on loopback. One run per row unless stated; ratio = ours / reference.`,
    '',
    '| work | nx-asset-images | reference | ratio | goal |',
    '| --- | --- | --- | --- | --- |',
    ...rows.map((r) => `| ${r.join(' | ')} |`),
    '',
  ].join('\n');
  mkdirSync(dirname(OUT), { recursive: true });
  writeFileSync(OUT, md);
  process.stdout.write(md);
  log(`wrote ${OUT}`);
}

main()
  .catch((error) => {
    log(`FAILED: ${error.stack ?? error}`);
    process.exitCode = 1;
  })
  .finally(cleanup);
