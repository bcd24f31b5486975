import { parsePlatform, platformKey, type Platform } from '../oci/platform';
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

/** The platform of an image.json that records none (written before platforms were recorded). */
export const DEFAULT_PLATFORM = 'linux/amd64';

/** The platforms an asset is built for when neither asset.json nor the target (the plugin option) names any. */
export const DEFAULT_PLATFORMS: readonly string[] = ['linux/amd64', 'linux/arm64'];

/** What a build takes from the environment and from the asset-image target's options. */
export interface BuildEnvironment {
  /** SOURCE_DATE_EPOCH: seconds of every tar entry and of the config's `created`. */
  mtime: number;
  /**
   * The platforms to build for when asset.json names none (the target's `platforms`, which the plugin
   * option sets; default linux/amd64 and linux/arm64): several give one index, one a plain manifest.
   */
  platforms: Platform[];
  /** The target's `platform`: the variant `docker load` gives Docker. Unset: the engine's own (or DOCKER_DEFAULT_PLATFORM). */
  dockerPlatform?: Platform;
  largeFileThreshold?: number;
  /** CI: a lock that does not match is an error, not rewritten. */
  ci: boolean;
}

/**
 * The one place the environment (CI, SOURCE_DATE_EPOCH) and the target's `platforms`, `platform`
 * and `largeFileThreshold` are read; values of the wrong type count as unset.
 */
export function buildEnvironment(
  target: { platforms?: unknown; platform?: unknown; largeFileThreshold?: unknown } = {},
  env: NodeJS.ProcessEnv = process.env,
): BuildEnvironment {
  const threshold = target.largeFileThreshold;
  return {
    mtime: sourceDateEpoch(env),
    platforms: targetPlatforms(target.platforms),
    ...(typeof target.platform === 'string' && target.platform !== '' ? { dockerPlatform: parsePlatform(target.platform) } : {}),
    ...(typeof threshold === 'number' ? { largeFileThreshold: threshold } : {}),
    ci: isCI(env),
  };
}

/** The target's `platforms` (a non-empty list of `os/architecture[/variant]`, each once), else the default. */
export function targetPlatforms(value: unknown): Platform[] {
  const list =
    Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'string') ? (value as string[]) : DEFAULT_PLATFORMS;
  const seen = new Set<string>();
  return list.map((entry, i) => {
    let platform: Platform;
    try {
      platform = parsePlatform(entry);
    } catch (error) {
      throw new Error(`asset-image option platforms[${i}]: ${(error as Error).message.replace(/^platform: /, '')}`, { cause: error });
    }
    const key = platformKey(platform);
    if (seen.has(key)) throw new Error(`asset-image option platforms[${i}]: each platform once (${key} is listed twice)`);
    seen.add(key);
    return platform;
  });
}
