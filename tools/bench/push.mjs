#!/usr/bin/env node
// Benchmark of the asset-push target against `docker push`, in one run.
// Run after `npm run build`, as root (it starts a private dockerd and registries):
//
//   node tools/bench/push.mjs              # 2 GiB asset (two weight files, 3/4 + 1/4)
//   node tools/bench/push.mjs --quick      # 256 MiB asset (smoke run)
//   options: --size 2GiB  --out <file.md>
//
// Rows:
//   - first push: `nx run bench:asset-push` (no blob in the registry) vs `docker push`
//     of the same files (`docker build` FROM scratch + COPY into the test dockerd;
//     Docker gzips the layers on push: that is the reference);
//   - second push, nothing changed: the executor's own time (its "Pushed ... in X s")
//     and the whole `nx run` wall time (Nx startup, project graph, the cached
//     asset-image dependency), and `docker push` again;
//   - the registry's own ingest of one blob of the asset's size (`curl -T` PUT, the
//     bytes already hashed): the floor for any client.
// It starts and stops its own services (tools/test-services.sh in a temp state dir,
// also on failure and SIGINT) and removes everything it wrote.
// Results: tools/bench/results/push-<date>[-quick].md
import { createHash } from 'node:crypto';
import { createReadStream, linkSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
const SIZE = parseSize(opt('size', quick ? '256MiB' : '2GiB'));
const today = new Date().toISOString().slice(0, 10);
const OUT = opt('out', join(here, 'results', `push-${today}${quick ? '-quick' : ''}.md`));

// ------------------------------------------------------------------ setup / teardown

const tmp = mkdtempSync('/tmp/nxai-pushbench-');
const state = join(tmp, 'svc');
const ws = join(tmp, 'ws');
const ctx = join(tmp, 'docker-ctx');
const services = benchServices(state);
const svc = services.env;
let cleaned = false;
function cleanup() {
  if (cleaned) return;
  cleaned = true;
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

const dockerEnv = () => ({ ...process.env, ...svc, DOCKER_BUILDKIT: '0' });
const docker = (args) => timed(DOCKER, args, { env: dockerEnv() });

async function sha256File(path) {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 4 * MiB })) hash.update(chunk);
  return hash.digest('hex');
}

function nxEnv() {
  // DOCKER_CONFIG from the services: an isolated, empty Docker config (the no-auth registry needs no login).
  const env = { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false', CI: 'false', DOCKER_CONFIG: svc.DOCKER_CONFIG };
  delete env.NX_SKIP_NX_CACHE;
  delete env.DOCKER_HOST;
  return env;
}
const nx = (args) => timed(process.execPath, [join(ws, 'node_modules', 'nx', nxBinRelative()), ...args], { cwd: ws, env: nxEnv() });

const FILES = { 'model-a.bin': Math.round((SIZE * 3) / 4), 'model-b.bin': SIZE - Math.round((SIZE * 3) / 4) };

function createWorkspace(image) {
  log(`workspace ${ws}`);
  const w = (file, content) => {
    mkdirSync(dirname(join(ws, file)), { recursive: true });
    writeFileSync(join(ws, file), content);
  };
  w('package.json', JSON.stringify({ name: 'bench', version: '0.0.0', private: true }, null, 2));
  w(
    'nx.json',
    JSON.stringify(
      { plugins: [{ plugin: 'nx-asset-images', options: {} }], targetDefaults: { 'asset-image': { options: { load: false } } } },
      null,
      2,
    ),
  );
  w('.gitignore', '/node_modules\n/.nx\n/.asset-images\n/dist\n*.bin\n');
  w('assets/bench/asset.json', JSON.stringify({ name: 'bench', image, tags: ['0.1'] }, null, 2));
  for (const [name, size] of Object.entries(FILES)) writeRandomFile(join(ws, 'assets/bench', name), size);
  linkBenchNodeModules(ws);
  const git = (...a) =>
    run('git', ['-c', 'user.name=bench', '-c', 'user.email=bench@invalid', '-c', 'commit.gpgsign=false', ...a], {
      cwd: ws,
      env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1' },
    });
  git('init', '-q', '-b', 'main');
  git('add', '-A');
  git('commit', '-q', '-m', 'initial');
  // docker build context: hard links to the same files.
  mkdirSync(ctx);
  for (const name of Object.keys(FILES)) linkSync(join(ws, 'assets/bench', name), join(ctx, name));
  writeFileSync(join(ctx, 'Dockerfile'), 'FROM scratch\nCOPY model-a.bin model-b.bin /\n');
}

/** The executor's summary: "Pushed sha256:... in X s: N blob(s) uploaded (...), N skipped (already there), N mounted". */
function parsePush(out) {
  const m =
    /Pushed (sha256:[0-9a-f]{64}) in ([\d.]+) s: (\d+) blob\(s\) uploaded \([^)]*\), (\d+) skipped \(already there\), (\d+) mounted/.exec(
      out,
    );
  if (!m) throw new Error(`no push summary in the nx output:\n${out.slice(-3000)}`);
  return { digest: m[1], executorSeconds: Number(m[2]), uploaded: Number(m[3]), skipped: Number(m[4]), mounted: Number(m[5]) };
}

/** The registry's own ingest: POST an upload session, then one `curl -T` PUT of the whole blob with its digest. */
function curlPut(registry, repository, file, digest) {
  const post = run('curl', ['-sS', '-i', '-X', 'POST', `http://${registry}/v2/${repository}/blobs/uploads/`]).stdout;
  const loc = /^location:\s*(\S+)/im.exec(post)?.[1];
  if (!loc) throw new Error(`no Location in the upload POST answer:\n${post}`);
  const url = new URL(loc, `http://${registry}`);
  url.searchParams.set('digest', `sha256:${digest}`);
  const t = timed('curl', [
    '-sS',
    '-f',
    '-o',
    '/dev/null',
    '-w',
    '%{http_code}',
    '-T',
    file,
    '-H',
    'Content-Type: application/octet-stream',
    url.toString(),
  ]);
  if (t.stdout.trim() !== '201') throw new Error(`curl PUT answered ${t.stdout}`);
  return t.seconds;
}

const fmt = (s) => `${s.toFixed(2)} s`;
const rate = (bytes, s) => `${(bytes / MiB / s).toFixed(0)} MiB/s`;

async function main() {
  const env = {
    cpus: cpus().length,
    memGiB: (totalmem() / GiB).toFixed(1),
    loadavgStart: loadavg()
      .map((x) => x.toFixed(2))
      .join(' '),
    commit: run('git', ['rev-parse', '--short', 'HEAD']).stdout.trim(),
  };
  services.start();
  const REG = svc.NXAI_REGISTRY;
  env.docker = docker(['version', '--format', '{{.Server.Version}}']).stdout.trim();
  env.storage = svc.NXAI_DOCKER_STORAGE_DRIVER;
  const image = `${REG}/asset/bench-push`;
  createWorkspace(image);

  log('nx run bench:asset-image (build, not measured against anything)');
  const build = nx(['run', 'bench:asset-image']);
  log(`built in ${fmt(build.seconds)}`);

  log('first push: nx run bench:asset-push');
  const first = nx(['run', 'bench:asset-push']);
  const firstPush = parsePush(first.stdout + first.stderr);
  log(`first push ${fmt(first.seconds)} wall, executor ${fmt(firstPush.executorSeconds)}, uploaded ${firstPush.uploaded}`);

  log('second push, nothing changed');
  const second = nx(['run', 'bench:asset-push']);
  const secondPush = parsePush(second.stdout + second.stderr);
  log(`second push ${fmt(second.seconds)} wall, executor ${fmt(secondPush.executorSeconds)}, uploaded ${secondPush.uploaded}`);

  // Where the rest of the wall time goes: the same nx run without the push (asset-image alone, a cache hit).
  const hit = nx(['run', 'bench:asset-image']);
  log(`nx run bench:asset-image (cache hit) ${fmt(hit.seconds)}`);

  log('docker build FROM scratch + COPY (legacy builder), then docker push');
  const dockerRef = `${REG}/asset/bench-docker:0.1`;
  const dbuild = docker(['build', '--network=host', '-t', dockerRef, ctx]);
  const dpush1 = docker(['push', dockerRef]);
  const dpush2 = docker(['push', dockerRef]);
  log(`docker build ${fmt(dbuild.seconds)}, push ${fmt(dpush1.seconds)}, again ${fmt(dpush2.seconds)}`);

  log('registry ingest floor: curl -T of one fresh blob of the same size');
  const blob = join(tmp, 'blob.bin');
  writeRandomFile(blob, SIZE);
  const digest = await sha256File(blob);
  const curl = curlPut(REG, 'asset/bench-curl', blob, digest);
  log(`curl PUT ${fmt(curl)}`);
  env.loadavgEnd = loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');

  const ratio = (a, b) => `${(a / b).toFixed(1)}x`;
  const lines = [
    `# asset-push benchmark, ${today}${quick ? ' (quick)' : ''}`,
    '',
    `Asset: ${(SIZE / GiB).toFixed(2)} GiB in two random (incompressible) files (${Object.entries(FILES)
      .map(([n, s]) => `${n} ${(s / MiB).toFixed(0)} MiB`)
      .join(', ')}), one layer each, no compression (the plugin's default).`,
    `Machine: ${env.cpus} cores, ${env.memGiB} GiB RAM, load ${env.loadavgStart} at start, ${env.loadavgEnd} at end; dockerd ${env.docker} (${env.storage}); registry: Distribution 2.8 on 127.0.0.1 (filesystem storage, plain HTTP). Commit ${env.commit}.`,
    `Command: \`node tools/bench/push.mjs${argv.length ? ` ${argv.join(' ')}` : ''}\``,
    '',
    '| work | ours | reference | ratio (reference / ours) | goal |',
    '| --- | --- | --- | --- | --- |',
    `| first push (${firstPush.uploaded} blobs uploaded) | \`nx run bench:asset-push\` ${fmt(first.seconds)} wall (executor ${fmt(firstPush.executorSeconds)}, ${rate(SIZE, firstPush.executorSeconds)}) | \`docker push\` (gzip) ${fmt(dpush1.seconds)} | ${ratio(dpush1.seconds, first.seconds)} wall, ${ratio(dpush1.seconds, firstPush.executorSeconds)} executor | >= 3x: ${dpush1.seconds / first.seconds >= 3 ? 'met' : 'NOT met'} (wall) |`,
    `| second push, nothing changed (${secondPush.uploaded} uploaded, ${secondPush.skipped} skipped) | executor ${fmt(secondPush.executorSeconds)}; \`nx run\` ${fmt(second.seconds)} wall | \`docker push\` again ${fmt(dpush2.seconds)} | ${ratio(dpush2.seconds, secondPush.executorSeconds)} executor, ${ratio(dpush2.seconds, second.seconds)} wall | < 1 s: executor ${secondPush.executorSeconds < 1 ? 'met' : 'NOT met'}, nx run wall ${second.seconds < 1 ? 'met' : 'NOT met'} |`,
    `| floor: the registry's ingest of one ${(SIZE / GiB).toFixed(2)} GiB blob | first push executor ${fmt(firstPush.executorSeconds)} | \`curl -T\` PUT ${fmt(curl)} (${rate(SIZE, curl)}) | ours is ${ratio(firstPush.executorSeconds, curl)} the floor | |`,
    '',
    `Nx's share of the wall time: \`nx run bench:asset-image\` alone (a cache hit) takes ${fmt(hit.seconds)} wall here: Nx startup, project graph, the asset's content key, cache restore.`,
    `Not compared: \`nx run bench:asset-image\` ${fmt(build.seconds)} (cold build, layout store written), \`docker build\` (legacy builder) ${fmt(dbuild.seconds)}.`,
    '"executor" is the time the asset-push executor prints (from its start: reading the result, the image from the layout store, credentials, the push); "wall" adds Nx startup, the project graph and the cached asset-image dependency. One run each, not a median.',
    '',
  ];
  const md = lines.join('\n');
  mkdirSync(dirname(OUT), { recursive: true });
  writeFileSync(OUT, md);
  process.stdout.write(`${md}\nwritten to ${OUT}\n`);
}

main()
  .catch((error) => {
    log(`FAILED: ${error.stack ?? error}`);
    process.exitCode = 1;
  })
  .finally(cleanup);
