// The values that tools/test-services.sh writes to <state-dir>/env, as the
// e2e tests see them. Pure: no IO, no vitest runtime.

/** Names written by `tools/test-services.sh start` into `<state-dir>/env`. */
export const SERVICES_ENV_KEYS = [
  'DOCKER_HOST',
  'DOCKER_CONFIG',
  'REGISTRY_AUTH_FILE',
  'NXAI_REGISTRY',
  'NXAI_AUTH_REGISTRY',
  'NXAI_AUTH_USER',
  'NXAI_AUTH_PASSWORD',
  'NXAI_SERVICES_DIR',
  'NXAI_DOCKER_STORAGE_DRIVER',
  'NXAI_BUSYBOX_IMAGE',
  // dockerd 26 with the containerd image store (tools/install-modern-docker.sh), when it runs.
  'NXAI_DOCKER26_HOST',
  'NXAI_DOCKER26_CLI',
  'NXAI_DOCKER26_CONFIG',
] as const;

export type ServicesEnvKey = (typeof SERVICES_ENV_KEYS)[number];

/** Required subset; the rest may be missing in an env file of an older script. */
export const REQUIRED_SERVICES_ENV_KEYS: readonly ServicesEnvKey[] = [
  'DOCKER_HOST',
  'NXAI_REGISTRY',
  'NXAI_AUTH_REGISTRY',
  'NXAI_AUTH_USER',
  'NXAI_AUTH_PASSWORD',
];

export type ServicesEnv = Partial<Record<ServicesEnvKey, string>> & Record<(typeof REQUIRED_SERVICES_ENV_KEYS)[number], string>;

/** Name under which global-setup `provide`s the env to test files (`inject('nxaiServices')`). */
export const SERVICES_PROVIDE_KEY = 'nxaiServices';

declare module 'vitest' {
  export interface ProvidedContext {
    nxaiServices: ServicesEnv;
  }
}

export class ServicesEnvError extends Error {
  constructor(
    message: string,
    readonly file: string,
    readonly missing: readonly string[] = [],
  ) {
    super(message);
    this.name = 'ServicesEnvError';
  }
}

/**
 * Parses the `export NAME='value'` lines of an env file (also accepts
 * unquoted and double-quoted values without escapes). Unknown names are kept.
 */
export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m) continue;
    let value = m[2];
    if (value.length >= 2 && value.startsWith("'") && value.endsWith("'")) value = value.slice(1, -1);
    else if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    out[m[1]] = value;
  }
  return out;
}

/** Picks the services' keys out of parsed env values; throws when a required one is missing. */
export function toServicesEnv(values: Record<string, string | undefined>, file: string): ServicesEnv {
  const missing = REQUIRED_SERVICES_ENV_KEYS.filter((k) => !values[k]);
  if (missing.length > 0) {
    throw new ServicesEnvError(`${file} lacks ${missing.join(', ')}`, file, missing);
  }
  const env: Partial<Record<ServicesEnvKey, string>> = {};
  for (const k of SERVICES_ENV_KEYS) {
    const v = values[k];
    if (v !== undefined && v !== '') env[k] = v;
  }
  return env as ServicesEnv;
}

/** Which engine the Docker e2e tests run against: `NXAI_E2E_DOCKER=26` picks dockerd 26 (containerd store), else 20.10. */
export type E2eEngine = '20.10' | '26';

export function e2eEngineOf(value: string | undefined): E2eEngine {
  if (value === undefined || value === '' || value === '20.10' || value === '20') return '20.10';
  if (value === '26') return '26';
  throw new ServicesEnvError(`NXAI_E2E_DOCKER=${value}: expected 20.10 or 26`, 'NXAI_E2E_DOCKER');
}

/**
 * The services env as the tests of one engine see it: for 26, DOCKER_HOST and DOCKER_CONFIG are dockerd 26's
 * (and `cliDir`, the directory of its CLI, goes first on PATH). Throws when 26 is asked for and did not start.
 */
export function servicesEnvFor(env: ServicesEnv, engine: E2eEngine): { env: ServicesEnv; cliDir?: string } {
  if (engine === '20.10') return { env };
  const { NXAI_DOCKER26_HOST: host, NXAI_DOCKER26_CLI: cli, NXAI_DOCKER26_CONFIG: config } = env;
  if (!host || !cli || !config) {
    throw new ServicesEnvError(
      'NXAI_E2E_DOCKER=26, but the services env has no dockerd 26 (NXAI_DOCKER26_*): run tools/install-modern-docker.sh',
      'NXAI_E2E_DOCKER',
      ['NXAI_DOCKER26_HOST', 'NXAI_DOCKER26_CLI', 'NXAI_DOCKER26_CONFIG'].filter((k) => !env[k as ServicesEnvKey]),
    );
  }
  return { env: { ...env, DOCKER_HOST: host, DOCKER_CONFIG: config }, cliDir: cli.slice(0, cli.lastIndexOf('/')) };
}
