#!/usr/bin/env node
// What platforms cost (issue 13): the same 2 GiB asset built for one platform (plugin option
// `platforms: ["linux/amd64"]`, a plain manifest) and for the default two (linux/amd64 + linux/arm64,
// one index over two manifests sharing every layer), side by side in one run, alternating.
// Run after `npm run build`, as root (it starts a private dockerd and registry):
//
//   node tools/bench/platforms.mjs             # 2 GiB weight + a config, 2 rounds
//   node tools/bench/platforms.mjs --quick     # 256 MiB, 1 round (smoke run)
//   options: --size 2GiB  --rounds 2  --out <file.md>
//
// Per round and configuration, each from a cold store (no .asset-images, no Nx cache) where it says so:
//   cold build: `nx run bench:asset-image --load=false` (hash + layout write), page cache dropped;
//   push:       `nx run bench:asset-push` to a repository the registry has never seen (asset-image: cache hit);
//   load:       `nx run bench:asset-image --load=true` with Docker lacking the image (a cache hit: the
//               plugin's hook puts the image into Docker from the layout store: docker load of the variant).
// Results: tools/bench/results/platforms-<date>[-quick].md

import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
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
  run,
  timed,
  writeRandomFile,
} from './lib.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const { flag, opt } = cliArgs();
const quick = flag('quick');
const SIZE = parseSize(opt('size', quick ? '256MiB' : '2GiB'));
const ROUNDS = Number(opt('rounds', quick ? '1' : '2'));
const today = new Date().toISOString().slice(0, 10);
const OUT = opt('out', join(here, 'results', `platforms-${today}${quick ? '-quick' : ''}.md`));

const { tmp, services, svc, cleanup } = benchRun('/tmp/nxai-platbench-');
const docker = (args, check = true) => timed(DOCKER, args, { env: { ...process.env, ...svc }, check });
const nx = benchNx(svc);
const w = (ws, file, content) => {
  mkdirSync(dirname(join(ws, file)), { recursive: true });
  writeFileSync(join(ws, file), content);
};
const forget = (ref) => forgetImages(docker, ref);

const CONFIGS = [
  { name: 'one platform (linux/amd64)', key: 'one', options: { platforms: ['linux/amd64'] } },
  { name: 'two platforms (default)', key: 'two', options: {} },
];

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
  const ws = join(tmp, 'ws');
  w(ws, 'package.json', JSON.stringify({ name: 'bench', version: '0.0.0', private: true }, null, 2));
  w(ws, 'assets/bench/config.json', '{"hidden_size": 768}\n');
  // load: false by default, so asset-push's cache-hit asset-image does not docker-load (the load step says --load=true).
  w(ws, 'assets/bench/project.json', JSON.stringify({ name: 'bench', targets: { 'asset-image': { options: { load: false } } } }, null, 2));
  mkdirSync(join(ws, 'assets/bench/weights'), { recursive: true });
  writeRandomFile(join(ws, 'assets/bench/weights/model.bin'), SIZE);
  linkBenchNodeModules(ws);
  log(`workspace ${ws}, weight ${SIZE} B, ${ROUNDS} round(s)`);

  const times = Object.fromEntries(CONFIGS.map((c) => [c.key, { cold: [], push: [], load: [] }]));
  const digests = {};
  for (let round = 1; round <= ROUNDS; round++) {
    for (const config of round % 2 === 1 ? CONFIGS : [...CONFIGS].reverse()) {
      const image = `${REG}/bench/plat-${config.key}-${round}`;
      w(ws, 'nx.json', JSON.stringify({ plugins: [{ plugin: 'nx-asset-images', options: config.options }] }, null, 2));
      w(ws, 'assets/bench/asset.json', JSON.stringify({ name: 'bench', image, tags: ['0.1'] }, null, 2));
      for (const dir of ['.asset-images', 'dist', '.nx']) rmSync(join(ws, dir), { recursive: true, force: true });
      rmSync(join(ws, 'assets/bench/asset.lock.json'), { force: true });
      dropCaches();
      times[config.key].cold.push(nx(ws, ['run', 'bench:asset-image', '--load=false']).seconds);
      dropCaches();
      times[config.key].push.push(nx(ws, ['run', 'bench:asset-push']).seconds);
      forget(image);
      dropCaches();
      times[config.key].load.push(nx(ws, ['run', 'bench:asset-image', '--load=true']).seconds);
      const held = docker(['image', 'inspect', '--format', '{{.Architecture}}', `${image}:0.1`]).stdout.trim();
      if (held !== 'amd64') throw new Error(`${config.key}: Docker holds ${held || 'nothing'} under ${image}:0.1`);
      const raw = JSON.parse(run('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${image}:0.1`]).stdout);
      digests[config.key] = raw.mediaType;
      forget(image);
      log(
        `round ${round} ${config.key}: ${JSON.stringify(Object.fromEntries(Object.entries(times[config.key]).map(([k, v]) => [k, v.at(-1).toFixed(2)])))}`,
      );
    }
  }
  const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
  const show = (xs) => xs.map((x) => x.toFixed(2)).join(', ');
  const rows = ['cold', 'push', 'load'].map((step) => {
    const one = times.one[step];
    const two = times.two[step];
    const label = {
      cold: 'cold `asset-image --load=false`',
      push: 'first `asset-push`',
      load: '`asset-image` cache hit, Docker lacking the image (docker load)',
    }[step];
    return `| ${label} | ${show(one)} s | ${show(two)} s | ${((med(two) / med(one) - 1) * 100).toFixed(1)}% | under 1% |`;
  });
  const md = [
    `# platforms benchmark, ${new Date().toISOString()}`,
    '',
    `Command: \`node tools/bench/platforms.mjs${quick ? ' --quick' : ''}\`. Asset: one ${(SIZE / MiB).toFixed(0)} MiB random weight + a config; plugin at commit ${env.commit}. Machine: ${env.cpus} CPUs, ${env.memGiB} GiB, load average ${env.loadStart} at start, ${loadavg()
      .map((x) => x.toFixed(2))
      .join(
        ' ',
      )} at end. ${ROUNDS} round(s), configurations alternating; page cache dropped before each cold build, push and load. Registry manifests: one platform ${digests.one}, two ${digests.two}.`,
    '',
    '| step (whole `nx run`) | one platform | two platforms | two vs one (medians) | goal |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
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
