// Shared scaffolding of the benchmark scripts: options, timing, processes, the test services.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;

export function parseSize(text) {
  const m = /^(\d+(?:\.\d+)?)\s*(B|K|KiB|M|MiB|G|GiB)?$/i.exec(String(text).trim());
  if (!m) throw new Error(`bad size ${text} (use e.g. 2GiB, 256MiB)`);
  const unit = (m[2] ?? 'B').toLowerCase()[0];
  return Math.round(Number(m[1]) * { b: 1, k: 1024, m: MiB, g: GiB }[unit]);
}

/** `--name` flags and `--name value` / `--name=value` options of this process. */
export function cliArgs(argv = process.argv.slice(2)) {
  const flag = (name) => argv.includes(`--${name}`);
  const opt = (name, dflt) => {
    const i = argv.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
    if (i < 0) return dflt;
    return argv[i].includes('=') ? argv[i].slice(argv[i].indexOf('=') + 1) : argv[i + 1];
  };
  return { argv, flag, opt };
}

export const now = () => Number(process.hrtime.bigint()) / 1e9;
export const log = (...a) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${a.join(' ')}\n`);

export function run(cmd, args, { env = process.env, cwd = repo, check = true, input } = {}) {
  const r = spawnSync(cmd, args, { env, cwd, input, encoding: 'utf8', maxBuffer: 256 * MiB });
  if (check && r.status !== 0) {
    throw new Error(
      `${cmd} ${args.join(' ')} exited ${r.status ?? r.signal}:\n${(r.stderr || '').slice(-3000)}\n${(r.stdout || '').slice(-1500)}`,
    );
  }
  return r;
}

export function timed(cmd, args, opts) {
  const t = now();
  const r = run(cmd, args, opts);
  return { seconds: now() - t, stdout: r.stdout, stderr: r.stderr };
}

// Debian's docker CLI 20.10 (/usr/bin/docker) has BuildKit built in; a newer CLI earlier in PATH
// (28.x in /usr/local/bin here) refuses DOCKER_BUILDKIT=1 without the buildx plugin.
export const DOCKER = existsSync('/usr/bin/docker') ? '/usr/bin/docker' : 'docker';

/** The `export NAME='value'` lines of a services env file (tools/test-services.sh writes `<state>/env`). */
export function readServicesEnv(file) {
  const env = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^export (\w+)='(.*)'$/.exec(line);
    if (m) env[m[1]] = m[2];
  }
  return env;
}

/**
 * The test services of one benchmark run (tools/test-services.sh in `state`):
 * `start()` fills `env` from the services' env file; `stop()` stops only what
 * was started. With `reuse` (the env file of services started elsewhere, like the
 * e2e tests' NXAI_SERVICES_ENV), `start()` only reads that file and nothing is started or stopped.
 */
export function benchServices(state, { reuse } = {}) {
  const env = {};
  let started = false;
  const script = join(repo, 'tools', 'test-services.sh');
  return {
    env,
    reused: reuse,
    start() {
      if (reuse) {
        log(`reusing the services of ${reuse}`);
        Object.assign(env, readServicesEnv(reuse));
        return;
      }
      log(`starting services in ${state}`);
      started = true;
      run('bash', [script, 'start', state]);
      Object.assign(env, readServicesEnv(join(state, 'env')));
    },
    stop() {
      if (!started) return;
      log('stopping services');
      run('bash', [script, 'stop', state], { check: false });
    },
  };
}

/** Random bytes, written in 8 MiB chunks from a 64 MiB random pool with a chunk counter (unique, incompressible). */
export function writeRandomFile(path, size) {
  const pool = randomBytes(64 * MiB);
  const fd = openSync(path, 'w');
  let written = 0;
  for (let i = 0; written < size; i++) {
    const off = (i % 8) * 8 * MiB;
    const chunk = pool.subarray(off, off + Math.min(8 * MiB, size - written));
    if (chunk.length >= 8) chunk.writeBigUInt64LE(BigInt(i), 0);
    written += writeSync(fd, chunk);
  }
  closeSync(fd);
}

/** nx's bin script, relative to node_modules/nx. */
export function nxBinRelative() {
  const pkg = JSON.parse(readFileSync(join(repo, 'node_modules', 'nx', 'package.json'), 'utf8'));
  return typeof pkg.bin === 'string' ? pkg.bin : pkg.bin.nx;
}

/**
 * A benchmark workspace's node_modules: symlinks to this repo's packages, and a
 * snapshot of the built plugin (others may rebuild packages/nx-asset-images/dist
 * while the benchmark runs; the snapshot keeps one build for the whole run).
 */
export function linkBenchNodeModules(ws) {
  const nm = join(ws, 'node_modules');
  mkdirSync(nm, { recursive: true });
  for (const name of readdirSync(join(repo, 'node_modules'))) {
    if (name === 'nx-asset-images' || name.startsWith('.')) continue;
    symlinkSync(join(repo, 'node_modules', name), join(nm, name), 'dir');
  }
  const plugin = join(repo, 'packages', 'nx-asset-images');
  for (const name of readdirSync(plugin))
    cpSync(join(plugin, name), join(nm, 'nx-asset-images', name), { recursive: true, dereference: false });
}

/**
 * One benchmark run's temp dir and test services: `cleanup()` stops the services and removes the dir
 * (once; also on SIGINT/SIGTERM). `svc` is the services' env, filled by `services.start()`.
 * `servicesEnv`: reuse the services of that env file instead of starting them (see benchServices).
 */
export function benchRun(prefix, { servicesEnv } = {}) {
  const tmp = mkdtempSync(prefix);
  const services = benchServices(join(tmp, 'svc'), { reuse: servicesEnv });
  let cleaned = false;
  const cleanup = () => {
    if (cleaned) return;
    cleaned = true;
    services.stop();
    rmSync(tmp, { recursive: true, force: true });
    log(`removed ${tmp}`);
  };
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.on(signal, () => {
      cleanup();
      process.exit(130);
    });
  }
  return { tmp, services, svc: services.env, cleanup };
}

/**
 * `nx` in a benchmark workspace `root`: no daemon, no cloud, no TUI, its own cache dir, the services' env,
 * Docker 20.10's CLI first on PATH, plus `extra`. Timed.
 */
export function benchNx(svc, extra = {}) {
  const env = (root) => {
    const e = {
      ...process.env,
      ...svc,
      NX_DAEMON: 'false',
      NX_NO_CLOUD: 'true',
      NX_TUI: 'false',
      CI: 'false',
      NX_CACHE_DIRECTORY: join(root, '.nx', 'cache'),
      PATH: `${dirname(DOCKER)}:${process.env.PATH ?? ''}`,
      ...extra,
    };
    delete e.NX_SKIP_NX_CACHE;
    return e;
  };
  return (root, args) =>
    timed(process.execPath, [join(root, 'node_modules', 'nx', nxBinRelative()), ...args], { cwd: root, env: env(root) });
}

/** Drops the page cache (root only; a no-op elsewhere). */
export const dropCaches = () => run('sh', ['-c', 'sync && echo 3 > /proc/sys/vm/drop_caches'], { check: false });

/** Removes every image Docker holds under the references `refs` (with `docker`, a timed CLI runner). */
export function forgetImages(docker, ...refs) {
  const ids = refs.flatMap((ref) =>
    docker(['image', 'ls', '-q', '--filter', `reference=${ref}`])
      .stdout.split('\n')
      .filter(Boolean),
  );
  if (ids.length > 0) docker(['rmi', '-f', ...new Set(ids)], false);
}
