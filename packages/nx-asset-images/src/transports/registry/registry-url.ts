/**
 * Where a registry host is reached: HTTPS by default, plain HTTP only for
 * loopback hosts and hosts the caller marks insecure.
 */
/** Comma-separated hosts (`host` or `host:port`) every registry client reaches over plain HTTP, besides loopback ones. */
export const INSECURE_REGISTRIES_ENV = 'NX_ASSET_IMAGES_INSECURE_REGISTRIES';

/** The hosts `NX_ASSET_IMAGES_INSECURE_REGISTRIES` lists. */
export function insecureRegistriesFromEnv(env: NodeJS.ProcessEnv = process.env): string[] {
  return (env[INSECURE_REGISTRIES_ENV] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

/** `localhost:5000` -> `localhost`; `[::1]:5000` -> `[::1]`. */
export function hostWithoutPort(registry: string): string {
  if (registry.startsWith('[')) return registry.slice(0, registry.indexOf(']') + 1);
  const colon = registry.lastIndexOf(':');
  return colon === -1 ? registry : registry.slice(0, colon);
}

export function isInsecureRegistry(registry: string, insecureRegistries: readonly string[] = []): boolean {
  const lower = registry.toLowerCase();
  if (LOOPBACK_HOSTS.has(hostWithoutPort(lower))) return true;
  return insecureRegistries.some((r) => {
    const candidate = r
      .toLowerCase()
      .replace(/^[a-z]+:\/\//, '')
      .replace(/\/+$/, '');
    return candidate === lower || candidate === hostWithoutPort(lower);
  });
}

/** The API endpoint host for a registry name (`docker.io` is served by `registry-1.docker.io`). */
export function endpointHost(registry: string): string {
  return registry === 'docker.io' || registry === 'index.docker.io' ? 'registry-1.docker.io' : registry;
}

/** `http://127.0.0.1:5000` or `https://registry.example.com`. */
export function registryBaseUrl(registry: string, insecureRegistries: readonly string[] = []): URL {
  const scheme = isInsecureRegistry(registry, insecureRegistries) ? 'http' : 'https';
  return new URL(`${scheme}://${endpointHost(registry)}`);
}
