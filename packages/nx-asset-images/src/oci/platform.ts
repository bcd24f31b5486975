/**
 * A platform, `os/architecture[/variant]` (`linux/amd64`, `linux/arm/v7`): the
 * one parser of its text (asset.json's `platforms`, the targets' `platform` and
 * `platforms`, image.json, Docker's default platform) and its one key.
 */

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

/** `os/architecture[/variant]`, each part lower-case letters, digits and `_`; asset.json's schema holds the same pattern. */
export const PLATFORM_PATTERN = new RegExp('^[a-z0-9_]+/[a-z0-9_]+(/[a-z0-9_]+)?$');

export class InvalidPlatformError extends Error {
  override readonly name = 'InvalidPlatformError';
  constructor(readonly value: string) {
    super(`platform: expected os/architecture[/variant] such as linux/amd64, got ${JSON.stringify(value)}`);
  }
}

/** `os/architecture[/variant]`, e.g. `linux/amd64`, `linux/arm64/v8`; throws `InvalidPlatformError`. */
export function parsePlatform(value: string): Platform {
  const platform = tryParsePlatform(value);
  if (!platform) throw new InvalidPlatformError(value);
  return platform;
}

/** `parsePlatform`, undefined for text that is no platform. */
export function tryParsePlatform(value: string): Platform | undefined {
  if (!PLATFORM_PATTERN.test(value)) return undefined;
  const [os, architecture, variant] = value.split('/') as [string, string, string | undefined];
  return { os, architecture, ...(variant ? { variant } : {}) };
}

/** The platform as written: `os/architecture[/variant]`. */
export function formatPlatform(platform: Platform): string {
  return [platform.os, platform.architecture, ...(platform.variant ? [platform.variant] : [])].join('/');
}

/** `linux/arm64` and `linux/arm64/v8` are one platform (as containerd normalises them); a duplicate is an error. */
export function platformKey(platform: Platform): string {
  const variant = platform.architecture === 'arm64' && platform.variant === 'v8' ? undefined : platform.variant;
  return formatPlatform({ os: platform.os, architecture: platform.architecture, ...(variant ? { variant } : {}) });
}
