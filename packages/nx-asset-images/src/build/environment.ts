import { parseSourceDateEpoch } from '../tar/tar-entries';

/** CI as Nx and npm see it: `CI` set to anything but `false`/`0`. */
export function isCI(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = env['CI'];
  return value !== undefined && value !== '' && value !== 'false' && value !== '0';
}

/** `SOURCE_DATE_EPOCH` as whole seconds; 0 when unset. A value that is not a non-negative integer is an error. */
export function sourceDateEpoch(env: NodeJS.ProcessEnv = process.env): number {
  return parseSourceDateEpoch(env['SOURCE_DATE_EPOCH']);
}

/** `os/architecture[/variant]`, e.g. `linux/amd64`, `linux/arm64/v8`. */
export function parsePlatform(value: string): { os: string; architecture: string; variant?: string } {
  const parts = value.split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((part) => !/^[a-z0-9_]+$/.test(part))) {
    throw new Error(`platform: expected os/architecture[/variant] such as linux/amd64, got ${JSON.stringify(value)}`);
  }
  return { os: parts[0]!, architecture: parts[1]!, ...(parts[2] ? { variant: parts[2] } : {}) };
}

export type Platform = ReturnType<typeof parsePlatform>;

/** The platform of a build whose target sets none. */
export const DEFAULT_PLATFORM = 'linux/amd64';

/** What a build takes from the environment and from the asset-image target's options. */
export interface BuildEnvironment {
  /** SOURCE_DATE_EPOCH: seconds of every tar entry and of the config's `created`. */
  mtime: number;
  platform: Platform;
  largeFileThreshold?: number;
  /** CI: a lock that does not match is an error, not rewritten. */
  ci: boolean;
}

/**
 * The one place the environment (CI, SOURCE_DATE_EPOCH) and the target's `platform` and
 * `largeFileThreshold` are read; values of the wrong type count as unset.
 */
export function buildEnvironment(
  target: { platform?: unknown; largeFileThreshold?: unknown } = {},
  env: NodeJS.ProcessEnv = process.env,
): BuildEnvironment {
  const threshold = target.largeFileThreshold;
  return {
    mtime: sourceDateEpoch(env),
    platform: parsePlatform(typeof target.platform === 'string' ? target.platform : DEFAULT_PLATFORM),
    ...(typeof threshold === 'number' ? { largeFileThreshold: threshold } : {}),
    ci: isCI(env),
  };
}
