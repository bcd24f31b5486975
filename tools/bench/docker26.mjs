#!/usr/bin/env node
// The Docker users run today (issue 15): an asset and an app built on Docker 26 with the containerd image
// store, BuildKit and buildx, four ways side by side in one run, alternating. Run after `npm run build`, as
// root (it starts private test services, dockerd 26 among them, unless it reuses some):
//
//   node tools/bench/docker26.mjs                # one 2 GiB random weight + a config, 3 rounds
//   node tools/bench/docker26.mjs --quick        # 64 MiB, 1 round (smoke run)
//   options: --size 2GiB  --rounds 3  --compressions uncompressed,gzip  --out <file.md>
//            --services-env <env file> (or NXAI_SERVICES_ENV=<env file>): reuse running test services (their
//            dockerd 26 gets `docker builder prune -af` before every path: do not point it at an engine in use)
//
// The app: `FROM busybox` + `COPY --from=<asset ref> / /assets/m/`. Every path starts from a cold store: no
// .asset-images (layout store, stat cache), no dist, no Nx cache, neither the asset nor the app in dockerd 26,
// `docker builder prune -af`, page cache dropped. Then, timed:
//   (a)  `nx run m:asset-image --load=true` (docker load), then `docker build` of the app (Docker 26's CLI: BuildKit);
//   (b-plugin) the plugin's defaults: `nx run m:asset-image` (load: auto, so Docker gets the asset too), then
//        `nx run b-plugin:docker-build` with no options (buildx and oci-layout:// contexts on the containerd store,
//        layers exported uncompressed);
//   (b)  `nx run m:asset-image` (load: false in the asset's project.json), then `nx run b-<x>:docker-build` with
//        useBuildx: the asset handed to BuildKit as an oci-layout:// named context, never loaded. Once with the
//        target's defaults ("default"), and once per `--compressions` value with the target option exportCompression;
//   (c)  the seeds' way: `docker buildx build --load` of the asset folder (`FROM scratch` + `COPY . /`, tagged with
//        the asset's ref), then `docker buildx build --load` of the app; BuildKit's defaults;
//   (d)  the floor of the app step: `docker buildx build --load` of the app alone, the asset already in the store
//        (put there untimed by `nx run m:asset-image --load=true`, then `docker builder prune -af` and a page cache drop).
//        (d-uncompressed) the same, exporting with `--output type=docker,compression=uncompressed` as (b) does.
// Results: tools/bench/results/docker26-<date>[-quick].md (also printed).

import { existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  benchNx,
  benchRun,
  cliArgs,
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
const SIZE = parseSize(opt('size', quick ? '64MiB' : '2GiB'));
const ROUNDS = Number(opt('rounds', quick ? '1' : '3'));
const COMPRESSIONS = [
  ...new Set(
    String(opt('compressions', '') ?? '')
      .split(',')
      .map((c) => c.trim())
      .filter((c) => c && c !== 'default'),
  ),
];
for (const c of COMPRESSIONS) {
  if (!['uncompressed', 'gzip', 'zstd'].includes(c)) throw new Error(`--compressions: ${c} is not one of uncompressed, gzip, zstd`);
}
if (!(ROUNDS >= 1)) throw new Error(`--rounds ${opt('rounds')}: expected a number >= 1`);
const SERVICES_ENV = opt('services-env', process.env.NXAI_SERVICES_ENV || undefined);
const today = new Date().toISOString().slice(0, 10);
const OUT = opt('out', join(here, 'results', `docker26-${today}${quick ? '-quick' : ''}.md`));

const { tmp, services, svc, cleanup } = benchRun('/tmp/nxai-d26bench-', {
  servicesEnv: SERVICES_ENV ? resolve(SERVICES_ENV) : undefined,
});

// Docker 26: its CLI (with the buildx plugin in its DOCKER_CONFIG) first on PATH, its daemon's socket.
const env26 = () => ({
  DOCKER_HOST: svc.NXAI_DOCKER26_HOST,
  DOCKER_CONFIG: svc.NXAI_DOCKER26_CONFIG,
  PATH: `${dirname(svc.NXAI_DOCKER26_CLI)}:${process.env.PATH ?? ''}`,
});
const docker26 = (args, check = true) => {
  const env = { ...process.env, ...svc, ...env26() };
  delete env.DOCKER_BUILDKIT;
  return timed(svc.NXAI_DOCKER26_CLI, args, { env, check });
};
let nxRunner;
const nx = (root, args) => (nxRunner ??= benchNx(svc, env26()))(root, args);
const w = (ws, file, content) => {
  mkdirSync(dirname(join(ws, file)), { recursive: true });
  writeFileSync(join(ws, file), content);
};
const git = (cwd, ...a) =>
  run('git', ['-c', 'user.name=bench', '-c', 'user.email=bench@invalid', '-c', 'commit.gpgsign=false', ...a], {
    cwd,
    env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1' },
  });

const APP_REPO = 'nxai-bench.invalid/d26-app';
const APP = `${APP_REPO}:latest`;
const ENGINE_ARCH = { x64: 'amd64', arm64: 'arm64' }[process.arch] ?? process.arch;

// ---------------------------------------------------------------- dockerd 26's containerd, for what the store holds

/** dockerd 26's state dir (test-services.sh: <state>/d26, its socket <state>/d26/docker.sock). */
const d26Dir = () => /^unix:\/\/(.*)\/docker\.sock$/.exec(svc.NXAI_DOCKER26_HOST ?? '')?.[1];
const containerdSock = () => {
  const dir = d26Dir();
  const sock = dir && join(dir, 'exec', 'containerd', 'containerd.sock');
  return sock && existsSync(sock) ? sock : undefined;
};
/** containerd's name of a Docker reference (docker.io/library/..., :latest). */
function containerdName(ref) {
  const [first, ...rest] = ref.split('/');
  const host = rest.length > 0 && (first.includes('.') || first.includes(':') || first === 'localhost');
  const name = host ? ref : `docker.io/${rest.length > 0 ? ref : `library/${ref}`}`;
  return /:[^/]+$/.test(name) ? name : `${name}:latest`;
}
/** The compression of each layer of the engine's variant of `ref` in dockerd 26's store (undefined: not there, or no ctr). */
function layerCompressions(ref) {
  const sock = containerdSock();
  if (!sock) return undefined;
  const ctr = (...a) => run('ctr', ['-a', sock, '-n', 'moby', ...a], { check: false });
  const name = containerdName(ref);
  try {
    const line = ctr('images', 'ls', `name==${name}`)
      .stdout.split('\n')
      .find((l) => l.startsWith(`${name} `));
    if (!line) return undefined;
    let doc = JSON.parse(ctr('content', 'get', line.split(/\s+/)[2]).stdout);
    if (doc.manifests) {
      const m = doc.manifests.find((d) => d.platform?.os === 'linux' && d.platform?.architecture === ENGINE_ARCH) ?? doc.manifests[0];
      doc = JSON.parse(ctr('content', 'get', m.digest).stdout);
    }
    return doc.layers.map((l) => (/zstd/.test(l.mediaType) ? 'zstd' : /gzip/.test(l.mediaType) ? 'gzip' : 'uncompressed'));
  } catch (error) {
    log(`could not read ${name} from containerd: ${error.message}`);
    return undefined;
  }
}
/** Bytes of dockerd 26's content store and snapshots (the cold check: each path starts where the first did). */
function storeBytes() {
  const dir = d26Dir();
  if (!dir) return undefined;
  const daemon = join(dir, 'data', 'containerd', 'daemon');
  const parts = ['io.containerd.content.v1.content', 'io.containerd.snapshotter.v1.overlayfs']
    .map((p) => join(daemon, p))
    .filter(existsSync);
  if (parts.length === 0) return undefined;
  const r = run('du', ['-sb', '-c', ...parts], { check: false });
  const total = /^(\d+)\s+total$/m.exec(r.stdout);
  return total ? Number(total[1]) : undefined;
}

// ---------------------------------------------------------------- BuildKit's plain progress

const shorten = (text) =>
  text
    .replace(/@?sha256:[0-9a-f]{64}/g, '')
    .replace(/\s+/g, ' ')
    .trim();
/** The longest steps (DONE) and export sub-steps (`... 1.2s done`) of `--progress=plain` output. */
function buildkitSteps(text) {
  const names = new Map();
  const done = new Map(); // step id -> its longest DONE (BuildKit may print a step's DONE more than once)
  const subs = [];
  for (const raw of text.split('\n')) {
    const m = /^#(\d+) (.*)$/.exec(raw.trim());
    if (!m) continue;
    const [, id, rest] = m;
    const d = /^DONE (\d+(?:\.\d+)?)s$/.exec(rest);
    if (d) {
      if (names.has(id)) done.set(id, Math.max(done.get(id) ?? 0, Number(d[1])));
      continue;
    }
    if (!names.has(id)) {
      names.set(id, rest);
      continue;
    }
    const sub = /^(.*?) (\d+(?:\.\d+)?)s done$/.exec(rest);
    if (!sub || Number(sub[2]) < 0.1) continue;
    const what = shorten(sub[1].replace(/ to \S+$/, ''));
    const transfer = /^(\S+B) \/ \S+B$/.exec(what); // a blob's bytes (of an oci-layout context: sent by the client)
    subs.push([transfer ? `transfer ${transfer[1]}` : what.slice(0, 40), Number(sub[2])]);
  }
  const top = (xs, n) =>
    xs
      .filter(([, s]) => s >= 0.1)
      .sort((x, y) => y[1] - x[1])
      .slice(0, n)
      .map(([name, s]) => `${name} ${s.toFixed(1)} s`);
  const steps = [...done].map(([id, seconds]) => [shorten(names.get(id)).slice(0, 70), seconds]);
  return [...top(steps, 4), ...top(subs, 3).map((s) => `(${s})`)].join('; ') || '(no step over 0.1 s)';
}

// ---------------------------------------------------------------- the paths

const PATHS = [
  { key: 'a', label: '(a) plugin + docker load, then `docker build`' },
  {
    key: 'b-plugin',
    label:
      "(b) the plugin's defaults end to end: `asset-image` (load: auto, so Docker gets the asset too), then `docker-build` with no options",
  },
  { key: 'b-default', label: '(b) plugin, `docker-build` with useBuildx (oci-layout://), exportCompression: default' },
  ...COMPRESSIONS.map((c) => ({
    key: `b-${c}`,
    compression: c,
    label: `(b) plugin, \`docker-build\` with useBuildx (oci-layout://), exportCompression: ${c}`,
  })),
  { key: 'c', label: "(c) the seeds' way: `docker buildx build --load` of the asset, then of the app" },
  { key: 'd', label: '(d) floor of the app step: `docker buildx build --load` of the app, the asset in the store' },
  {
    key: 'd-uncompressed',
    label: '(d) the same floor, exporting uncompressed: `docker buildx build --output type=docker,compression=uncompressed`',
  },
];
const isB = (key) => key.startsWith('b-');

async function main() {
  const env = {
    cpus: cpus().length,
    memGiB: (totalmem() / GiB).toFixed(1),
    loadStart: loadavg()
      .map((x) => x.toFixed(2))
      .join(' '),
    commit: run('git', ['rev-parse', '--short', 'HEAD']).stdout.trim(),
    pluginDirty: run('git', ['status', '--porcelain', '--', 'packages/nx-asset-images'], { check: false }).stdout.trim() !== '',
    distBuilt: (() => {
      try {
        return statSync(join(repo, 'packages', 'nx-asset-images', 'dist', 'index.js'))
          .mtime.toISOString()
          .slice(0, 19);
      } catch {
        return 'missing (run npm run build)';
      }
    })(),
  };
  services.start();
  if (!svc.NXAI_DOCKER26_HOST || !svc.NXAI_DOCKER26_CLI || !svc.NXAI_DOCKER26_CONFIG)
    throw new Error('the services env has no dockerd 26 (NXAI_DOCKER26_*): run tools/install-modern-docker.sh');
  const ping = docker26(['version', '--format', '{{.Client.Version}} / {{.Server.Version}}'], false);
  if (!ping.stdout.trim()) throw new Error(`dockerd 26 at ${svc.NXAI_DOCKER26_HOST} does not answer: ${ping.stderr}`);
  const versions = {
    docker: ping.stdout.trim(),
    buildx: docker26(['buildx', 'version']).stdout.trim(),
    containerd: docker26([
      'version',
      '--format',
      '{{range .Server.Components}}{{if eq .Name "containerd"}}{{.Version}}{{end}}{{end}}',
    ]).stdout.trim(),
    store: docker26(['info', '--format', '{{.Driver}} {{json .DriverStatus}}']).stdout.trim(),
    nx: run(process.execPath, ['-p', `require(${JSON.stringify(join(repo, 'node_modules', 'nx', 'package.json'))}).version`]).stdout.trim(),
  };
  log(`Docker 26: ${JSON.stringify(versions)}`);
  if (docker26(['image', 'inspect', 'busybox:latest'], false).stdout.trim() === '[]')
    throw new Error('dockerd 26 has no busybox:latest (tools/test-services.sh imports it)');

  const REG = svc.NXAI_REGISTRY;
  const IMAGE = `${REG}/bench/d26`;
  const ASSET_REF = `${IMAGE}:0.1`;
  const ws = join(tmp, 'ws');
  const appDockerfile = `FROM busybox\nCOPY --from=${ASSET_REF} / /assets/m/\n`;
  w(ws, 'package.json', JSON.stringify({ name: 'bench', version: '0.0.0', private: true }, null, 2));
  w(ws, 'nx.json', JSON.stringify({ plugins: [{ plugin: 'nx-asset-images', options: {} }] }, null, 2));
  w(ws, '.gitignore', '/node_modules\n/.nx\n/.asset-images\n/dist\n*.bin\n');
  w(ws, 'assets/m/asset.json', JSON.stringify({ name: 'm', image: IMAGE, tags: ['0.1'] }, null, 2));
  // Nothing loads the asset but what a path asks for (--load=true); (b)'s docker-build then finds asset-image a cache hit.
  const ASSET_PROJECT = JSON.stringify({ name: 'm', targets: { 'asset-image': { options: { load: false } } } }, null, 2);
  w(ws, 'assets/m/project.json', ASSET_PROJECT);
  w(ws, 'assets/m/config.json', '{"hidden_size": 768}\n');
  writeRandomFile(join(ws, 'assets/m/model.bin'), SIZE);
  const weightSha = run('sha256sum', [join(ws, 'assets/m/model.bin')]).stdout.split(' ')[0];
  w(ws, 'apps/app/project.json', JSON.stringify({ name: 'app', root: 'apps/app' }, null, 2));
  w(ws, 'apps/app/Dockerfile', appDockerfile);
  for (const path of PATHS.filter((p) => isB(p.key))) {
    const options =
      path.key === 'b-plugin'
        ? { tags: [APP] }
        : { useBuildx: true, tags: [APP], ...(path.compression ? { exportCompression: path.compression } : {}) };
    w(
      ws,
      `apps/${path.key}/project.json`,
      JSON.stringify({ name: path.key, root: `apps/${path.key}`, targets: { 'docker-build': { options } } }, null, 2),
    );
    w(ws, `apps/${path.key}/Dockerfile`, appDockerfile);
  }
  const seedDockerfile = join(tmp, 'seed.Dockerfile');
  writeFileSync(seedDockerfile, 'FROM scratch\nCOPY . /\n');
  linkBenchNodeModules(ws);
  git(ws, 'init', '-q', '-b', 'main');
  git(ws, 'add', '-A');
  git(ws, 'commit', '-q', '-m', 'initial');
  // The project graph once, untimed (every path runs on the same graph), and the (b) targets as Nx sees them.
  nx(ws, ['show', 'projects']);
  for (const path of PATHS.filter((p) => isB(p.key))) {
    const target = JSON.parse(nx(ws, ['show', 'project', path.key, '--json']).stdout).targets?.['docker-build'];
    if (target?.executor !== 'nx-asset-images:docker-build' || target.options?.useBuildx !== (path.key === 'b-plugin' ? undefined : true))
      throw new Error(`${path.key}: no docker-build target with useBuildx: ${JSON.stringify(target)}`);
  }
  log(`workspace ${ws}, weight ${SIZE} B, ${ROUNDS} round(s), paths ${PATHS.map((p) => p.key).join(' ')}`);

  let storeFirst;
  let storeDrift = 0;
  const coldStore = () => {
    forgetImages(docker26, IMAGE, APP_REPO);
    const left = docker26(['image', 'ls', '--format', '{{.Repository}}:{{.Tag}}'])
      .stdout.split('\n')
      .filter((r) => r.startsWith(`${IMAGE}:`) || r.startsWith(`${APP_REPO}:`));
    if (left.length > 0) docker26(['rmi', '-f', ...left], false);
    for (const ref of [ASSET_REF, APP])
      if (docker26(['image', 'inspect', ref], false).stdout.trim() !== '[]') throw new Error(`dockerd 26 still holds ${ref}`);
    docker26(['builder', 'prune', '-af']);
    for (const dir of ['.asset-images', 'dist', join('.nx', 'cache')]) rmSync(join(ws, dir), { recursive: true, force: true });
    rmSync(join(ws, 'assets/m/asset.lock.json'), { force: true });
    const bytes = storeBytes();
    if (bytes !== undefined) {
      storeFirst ??= bytes;
      storeDrift = Math.max(storeDrift, Math.abs(bytes - storeFirst));
      log(`dockerd 26 store (content + snapshots): ${(bytes / MiB).toFixed(1)} MiB`);
    }
  };
  const buildApp = (cmd) => docker26([...cmd, '--progress=plain', '-t', APP, join(ws, 'apps/app')]);

  const runPath = {
    a: () => {
      const asset = nx(ws, ['run', 'm:asset-image', '--load=true']);
      const app = buildApp(['build']);
      return { asset, app };
    },
    b: (path) => {
      // The plugin's defaults: the asset project without `load: false` (docker-build's dependency runs with the project's
      // options, not with command-line overrides), put back after the path.
      const plugin = path.key === 'b-plugin';
      if (plugin) w(ws, 'assets/m/project.json', JSON.stringify({ name: 'm' }, null, 2));
      try {
        const asset = nx(ws, ['run', 'm:asset-image']);
        const app = nx(ws, ['run', `${path.key}:docker-build`]);
        return { asset, app };
      } finally {
        if (plugin) w(ws, 'assets/m/project.json', ASSET_PROJECT);
      }
    },
    c: () => {
      const asset = docker26([
        'buildx',
        'build',
        '--progress=plain',
        '--load',
        '-t',
        ASSET_REF,
        '-f',
        seedDockerfile,
        join(ws, 'assets/m'),
      ]);
      const app = buildApp(['buildx', 'build', '--load']);
      return { asset, app };
    },
    d: () => {
      nx(ws, ['run', 'm:asset-image', '--load=true']);
      docker26(['builder', 'prune', '-af']);
      dropCaches();
      return { app: buildApp(['buildx', 'build', '--load']) };
    },
    'd-uncompressed': () => {
      nx(ws, ['run', 'm:asset-image', '--load=true']);
      docker26(['builder', 'prune', '-af']);
      dropCaches();
      return { app: buildApp(['buildx', 'build', '--output', 'type=docker,compression=uncompressed']) };
    },
  };

  const results = Object.fromEntries(PATHS.map((p) => [p.key, { asset: [], app: [], total: [], errors: [], seen: {} }]));
  for (let round = 1; round <= ROUNDS; round++) {
    for (const path of round % 2 === 1 ? PATHS : [...PATHS].reverse()) {
      const r = results[path.key];
      try {
        coldStore();
        dropCaches();
        const { asset, app } = (runPath[path.key] ?? runPath.b)(path);
        const out = `${app.stdout}\n${app.stderr}`;
        r.asset.push(asset?.seconds);
        r.app.push(app.seconds);
        r.total.push((asset?.seconds ?? 0) + app.seconds);
        // Untimed: what the store holds now, and that the app holds the asset's bytes.
        const appLayers = layerCompressions(APP);
        const assetLayers = layerCompressions(ASSET_REF);
        r.seen = {
          app: appLayers?.at(-1) ?? '?',
          asset: assetLayers ? [...new Set(assetLayers)].join('+') : 'not in the store',
          ...(path.key === 'a' ? { loadLine: /^Docker .*$/m.exec(asset.stdout)?.[0] } : {}),
          steps: buildkitSteps(out),
          ...(isB(path.key)
            ? {
                argv: /^docker buildx build .*$/m.exec(app.stdout)?.[0] ?? '(not printed)',
                assetCacheHit: /read the output from the cache|local cache/i.test(app.stdout),
              }
            : {}),
        };
        if (round === 1) {
          const sum = docker26(['run', '--rm', '--network=none', APP, 'sha256sum', '/assets/m/model.bin']).stdout.split(' ')[0];
          if (sum !== weightSha) throw new Error(`the app image's /assets/m/model.bin has sha256 ${sum}, the weight ${weightSha}`);
        }
        log(
          `round ${round} ${path.key}: asset ${asset ? asset.seconds.toFixed(2) : '-'} s, app ${app.seconds.toFixed(2)} s; app layer ${r.seen.app}, asset in store: ${r.seen.asset}; ${r.seen.steps}`,
        );
        if (r.seen.argv) log(`  ${r.seen.argv}`);
        if (r.seen.loadLine) log(`  ${r.seen.loadLine}`);
      } catch (error) {
        const text = String(error.message ?? error);
        const line =
          text
            .split('\n')
            .map((l) => l.trim())
            .find((l) => /error|unknown|invalid|not allowed|failed/i.test(l) && !/exited/.test(l)) ?? text.split('\n')[0];
        r.errors.push(`round ${round}: ${line.slice(0, 300)}`);
        log(`round ${round} ${path.key} FAILED: ${text.slice(0, 3000)}`);
      }
    }
  }
  try {
    coldStore();
  } catch (error) {
    log(`final clean-up of dockerd 26: ${error.message}`);
  }

  // ---------------------------------------------------------------- the report
  const med = (xs) => {
    const v = xs.filter((x) => typeof x === 'number').sort((a, b) => a - b);
    return v.length ? v[Math.floor((v.length - 1) / 2)] : undefined;
  };
  const show = (xs) => (xs.length ? xs.map((x) => (typeof x === 'number' ? x.toFixed(2) : '-')).join(', ') : '-');
  const cell = (text) => String(text).replace(/\|/g, '\\|');
  const commands = {
    a: '`nx run m:asset-image --load=true`; `docker build`',
    c: '`docker buildx build --load` (FROM scratch + COPY . /); `docker buildx build --load`',
    d: '(untimed: `nx run m:asset-image --load=true`, `docker builder prune -af`, page cache drop) `docker buildx build --load`',
    'd-uncompressed': '(untimed: as (d)) `docker buildx build --output type=docker,compression=uncompressed`',
  };
  const compressionCell = (path, r) => {
    const seen = r.seen.app ? `app's asset layer: ${r.seen.app}; asset: ${r.seen.asset}` : 'n/a';
    if (path.key === 'd-uncompressed') return `uncompressed; ${seen}`;
    if (!isB(path.key)) return `BuildKit default; ${seen}`;
    // Applied: the store holds the requested compression and the executor passed one to buildx (gzip is also BuildKit's default).
    const passed = /compression/i.test(r.seen.argv ?? '');
    const applied = !r.seen.app
      ? ''
      : r.seen.app !== path.compression
        ? ' (**not applied**)'
        : passed
          ? ' (applied)'
          : " (**not passed to buildx**; the store's compression is BuildKit's default)";
    const requested = path.compression ? `${path.compression}${applied}` : 'default (option unset)';
    const inArgv = r.seen.argv
      ? /compression/i.test(r.seen.argv)
        ? `buildx: \`${/\S*compression\S*/i.exec(r.seen.argv)[0]}\``
        : 'buildx argv names no compression'
      : '';
    return [`exportCompression: ${requested}`, inArgv, seen].filter(Boolean).join('; ');
  };
  const rows = PATHS.map((path) => {
    const r = results[path.key];
    const cmd = commands[path.key] ?? `\`nx run m:asset-image\`; \`nx run ${path.key}:docker-build\``;
    const status = r.errors.length ? ` (**failed** in ${r.errors.length} round(s): see Failures)` : '';
    return `| ${cell(path.label)} | ${cell(cmd)} | ${cell(compressionCell(path, r))} | ${show(r.asset.filter((x) => x !== undefined))} | ${show(r.app)} | ${show(r.total)} | ${med(r.total)?.toFixed(2) ?? '-'} | ${med(r.app)?.toFixed(2) ?? '-'}${cell(status)} |`;
  });
  const ratio = (x, y) => (x !== undefined && y !== undefined ? x / y : undefined);
  const fmtRatio = (x) => (x === undefined ? 'n/a' : `${x.toFixed(2)}x`);
  const ratioRows = [];
  const e2e = ratio(med(results.c.total), med(results['b-plugin'].total));
  ratioRows.push(
    `| (c) / (b-plugin), end to end (medians) | ${fmtRatio(e2e)} | >= 1.5x (the plugin's default path at least 1.5x faster than the seeds' way) | ${e2e === undefined ? 'n/a' : e2e >= 1.5 ? 'met' : 'not met'} |`,
  );
  for (const path of PATHS.filter((p) => isB(p.key) && p.key !== 'b-plugin')) {
    ratioRows.push(
      `| (c) / (${path.key}), end to end | ${fmtRatio(ratio(med(results.c.total), med(results[path.key].total)))} | (for comparison) | |`,
    );
  }
  for (const path of PATHS.filter((p) => isB(p.key))) {
    for (const floor of ['d', 'd-uncompressed']) {
      const x = ratio(med(results[path.key].app), med(results[floor].app));
      ratioRows.push(
        `| (${path.key}) app step / (${floor}) app step (medians) | ${fmtRatio(x)} | <= 1.2x | ${x === undefined ? 'n/a' : x <= 1.2 ? 'met' : 'not met'} |`,
      );
    }
  }
  ratioRows.push(
    `| (a) / (b default), end to end | ${fmtRatio(ratio(med(results.a.total), med(results['b-default'].total)))} | (for comparison) | |`,
  );
  ratioRows.push(
    `| (a) app step / (d) app step | ${fmtRatio(ratio(med(results.a.app), med(results.d.app)))} | (for comparison: both are BuildKit of a loaded asset) | |`,
  );
  const stepRows = PATHS.map((path) => {
    const r = results[path.key];
    const extra = isB(path.key) ? ` [asset-image in docker-build: ${r.seen.assetCacheHit ? 'Nx cache hit' : 'ran'}]` : '';
    return `| ${cell(path.key)} | ${cell((r.seen.steps ?? '-') + extra)} |`;
  });
  const argvNotes = PATHS.filter((p) => isB(p.key) && results[p.key].seen.argv).map((p) => `- ${p.key}: \`${results[p.key].seen.argv}\``);
  const loadEnd = loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
  const md = [
    `# Docker 26 benchmark (issue 15), ${new Date().toISOString()}`,
    '',
    `Command: \`node tools/bench/docker26.mjs${quick ? ' --quick' : ''}${opt('size') ? ` --size ${opt('size')}` : ''}${opt('rounds') ? ` --rounds ${opt('rounds')}` : ''}${COMPRESSIONS.length ? ` --compressions ${COMPRESSIONS.join(',')}` : ''}\`. ` +
      `Asset: one ${(SIZE / MiB).toFixed(0)} MiB random weight (gitignored) + a config.json; app: \`FROM busybox\` + \`COPY --from=<asset> / /assets/m/\`. ` +
      `Plugin at commit ${env.commit}${env.pluginDirty ? ' (with uncommitted changes in packages/nx-asset-images)' : ''}, dist built ${env.distBuilt}; Nx ${versions.nx}. ` +
      `Machine: ${env.cpus} CPUs, ${env.memGiB} GiB, load average ${env.loadStart} at start, ${loadEnd} at end.`,
    '',
    `Docker 26 (client / server): ${versions.docker}; ${versions.buildx}; containerd ${versions.containerd}; store: ${versions.store}. ` +
      `Services: ${services.reused ? `reused from ${services.reused}` : 'private (tools/test-services.sh, stopped at the end)'}.`,
    '',
    `${ROUNDS} round(s), paths alternating (odd rounds in table order, even rounds reversed). Before each path: the asset and app images removed from dockerd 26, ` +
      `\`docker builder prune -af\`, .asset-images, dist and the Nx cache removed, page cache dropped` +
      `${storeFirst !== undefined ? ` (dockerd 26's content store + snapshots at each path's start within ${(storeDrift / MiB).toFixed(1)} MiB of the first)` : ''}. ` +
      `Times are whole commands (an \`nx run\` includes Nx's startup); total = asset step + app step. "Exporter compression" is what dockerd 26's store holds after the path (via ctr), the engine's variant.`,
    '',
    '| path | commands (asset step; app step) | exporter compression | asset step (s, per round) | app step (s, per round) | total (s, per round) | median total (s) | median app step (s) |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
    '| ratio | value | goal | |',
    '| --- | --- | --- | --- |',
    ...ratioRows,
    '',
    "BuildKit's longest steps in the app step (last round, from `--progress=plain`; in parentheses: sub-steps of the export):",
    '',
    '| path | steps |',
    '| --- | --- |',
    ...stepRows,
    '',
    ...(argvNotes.length ? ["The (b) rows' buildx commands, as the docker-build executor printed them:", '', ...argvNotes, ''] : []),
    ...(results.a.seen.loadLine ? [`(a)'s asset-image: \`${results.a.seen.loadLine}\``, ''] : []),
    ...(PATHS.some((p) => results[p.key].errors.length)
      ? ['Failures:', '', ...PATHS.flatMap((p) => results[p.key].errors.map((e) => `- ${p.key}, ${e}`)), '']
      : []),
  ].join('\n');
  mkdirSync(dirname(OUT), { recursive: true });
  writeFileSync(OUT, md);
  process.stdout.write(md);
  log(`wrote ${OUT}`);
  if (['a', 'b-default', 'c', 'd'].some((k) => results[k].errors.length > 0)) process.exitCode = 1;
}

main()
  .catch((error) => {
    log(`FAILED: ${error.stack ?? error}`);
    process.exitCode = 1;
  })
  .finally(cleanup);
