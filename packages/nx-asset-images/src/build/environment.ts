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
