// vitest globalSetup of the "e2e" project.
//
// Starts the test services (tools/test-services.sh start <fresh temp dir>):
// a private dockerd, a plain registry, an htpasswd registry and a
// busybox:latest image. Their env values (DOCKER_HOST, NXAI_REGISTRY, ...)
// go into process.env, so that test workers (spawned after this runs) and the
// processes they start inherit them, and are `provide`d as 'nxaiServices'
// (read them in tests with `servicesEnv()` from ./services).
//
// Teardown stops exactly what was started, also when tests fail, and on
// SIGINT/SIGTERM or an early process exit.
//
// If the services cannot start the run fails with the reason: never a skip,
// with or without CI=true.
//
// Development loop: start services once and reuse them across runs:
//   tools/test-services.sh start /tmp/nxai-dev
//   NXAI_SERVICES_ENV=/tmp/nxai-dev/env npx vitest run --project e2e
//   tools/test-services.sh stop /tmp/nxai-dev
// With NXAI_SERVICES_ENV set, nothing is started or stopped here.
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { TestProject } from 'vitest/node';
import { e2eEngineOf, parseEnvFile, SERVICES_PROVIDE_KEY, ServicesEnv, servicesEnvFor, toServicesEnv } from './services-env';

const repoRoot = path.resolve(__dirname, '..', '..');
const script = path.join(repoRoot, 'tools', 'test-services.sh');

export class ServicesStartError extends Error {
  constructor(
    message: string,
    readonly stateDir: string,
    readonly stderr: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ServicesStartError';
  }
}

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('bash', [script, ...args], { maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

function stateDirRoot(): string {
  // Unix socket paths are limited to ~108 bytes; keep the state dir short.
  const t = tmpdir();
  return t.length <= 40 ? t : '/tmp';
}

// The project e2e-docker26, or NXAI_E2E_DOCKER=26: every test runs against dockerd 26 (containerd image store)
// instead of 20.10. The choice goes into process.env, so test workers (e2eEngine()) and the processes they start see it.
function publish(project: TestProject, started: ServicesEnv): void {
  // NXAI_E2E_DOCKER as the run was started with (a setup that ran before this one may have set it since).
  process.env['NXAI_E2E_DOCKER_REQUESTED'] ??= process.env['NXAI_E2E_DOCKER'] ?? '';
  const requested = process.env['NXAI_E2E_DOCKER_REQUESTED'];
  const engine = project.name === 'e2e-docker26' ? '26' : e2eEngineOf(requested);
  // The engine goes into this process's env, which every project of one vitest run shares: two engines cannot.
  const published = process.env['NXAI_E2E_ENGINE_PUBLISHED'];
  if (published !== undefined && published !== engine) {
    throw new ServicesStartError(
      `vitest is running the e2e projects of Docker ${published} and ${engine} in one process; run them one at a time ` +
        '(vitest run --project e2e, then vitest run --project e2e-docker26, as npm test does)',
      '',
      '',
    );
  }
  process.env['NXAI_E2E_ENGINE_PUBLISHED'] = engine;
  process.env['NXAI_E2E_DOCKER'] = engine;
  const { env, cliDir } = servicesEnvFor(started, engine);
  for (const [k, v] of Object.entries(env)) {
    if (v !== undefined) process.env[k] = v;
  }
  if (cliDir) process.env['PATH'] = `${cliDir}:${process.env['PATH'] ?? ''}`;
  project.provide(SERVICES_PROVIDE_KEY, env);
  console.log(`[e2e] Docker engine for this run: ${engine} (${env.DOCKER_HOST})`);
}

async function reuse(project: TestProject, file: string): Promise<() => Promise<void>> {
  if (!existsSync(file)) {
    throw new ServicesStartError(
      `NXAI_SERVICES_ENV=${file} does not exist. Start services with "tools/test-services.sh start <dir>" or unset NXAI_SERVICES_ENV.`,
      path.dirname(file),
      '',
    );
  }
  const env = toServicesEnv(parseEnvFile(readFileSync(file, 'utf8')), file);
  const ping = spawnSync('docker', ['-H', env.DOCKER_HOST, 'version', '--format', '{{.Server.Version}}'], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  if (ping.status !== 0) {
    throw new ServicesStartError(
      `NXAI_SERVICES_ENV=${file}: the docker engine at ${env.DOCKER_HOST} does not answer: ${ping.stderr || ping.error}`,
      path.dirname(file),
      ping.stderr ?? '',
    );
  }
  publish(project, env);
  console.log(`[e2e] reusing test services from ${file}`);
  return async () => {};
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const reuseFile = process.env.NXAI_SERVICES_ENV;
  if (reuseFile) return reuse(project, path.resolve(reuseFile));

  const stateDir = mkdtempSync(path.join(stateDirRoot(), 'nxai-svc-'));
  let stopped = false;

  // keepLogs: leave the state dir (logs, minus the bulky data) for diagnosis.
  const stopSync = (keepLogs = false): void => {
    if (stopped) return;
    stopped = true;
    spawnSync('bash', [script, 'stop', stateDir], { stdio: 'inherit', timeout: 60_000 });
    if (!keepLogs) rmSync(stateDir, { recursive: true, force: true });
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    stopSync();
    // Others (vitest) may handle the signal too; if we were the only one, exit.
    if (process.listenerCount(signal) <= 1) process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  const onExit = (): void => stopSync();
  const detach = (): void => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('exit', onExit);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('exit', onExit);

  const t0 = Date.now();
  const started = await run(['start', stateDir]);
  if (started.code !== 0) {
    detach();
    stopSync(true);
    throw new ServicesStartError(
      `e2e test services did not start (tools/test-services.sh start ${stateDir} exited ${started.code}):\n${started.stderr.trim()}`,
      stateDir,
      started.stderr,
    );
  }
  let env: ServicesEnv;
  try {
    env = toServicesEnv(parseEnvFile(readFileSync(path.join(stateDir, 'env'), 'utf8')), path.join(stateDir, 'env'));
  } catch (cause) {
    detach();
    stopSync(true);
    throw new ServicesStartError(`e2e test services wrote no usable env file in ${stateDir}`, stateDir, started.stderr, {
      cause,
    });
  }
  publish(project, env);
  console.log(`[e2e] test services up in ${Date.now() - t0} ms (${stateDir}, storage ${env.NXAI_DOCKER_STORAGE_DRIVER ?? '?'})`);

  return async () => {
    detach();
    if (stopped) return;
    stopped = true;
    const res = await run(['stop', stateDir]);
    if (res.code !== 0) {
      console.error(`[e2e] stopping test services failed (${res.code}): ${res.stderr.trim()}`);
    }
    rmSync(stateDir, { recursive: true, force: true });
  };
}
