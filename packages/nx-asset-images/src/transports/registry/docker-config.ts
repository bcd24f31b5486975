/**
 * Credentials from Docker's `config.json` (`$DOCKER_CONFIG/config.json` or
 * `~/.docker/config.json`): `auths` entries (base64 `auth`, or
 * `username`/`password`, `identitytoken`), `credHelpers` per host and the
 * default `credsStore`, matched by host the way Docker does.
 */
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { getFromCredentialHelper } from './credential-helper';
import type { RegistryCredentials, ResolvedCredentials } from './credentials';

export const DOCKER_HUB_AUTH_KEY = 'https://index.docker.io/v1/';

export interface DockerConfigFile {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string; registrytoken?: string }>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
}

export interface DockerConfigOptions {
  /** Directory holding config.json; default `$DOCKER_CONFIG` or `~/.docker`. */
  configDir?: string;
  /** Environment for locating the config and running helpers (PATH); default `process.env`. */
  env?: NodeJS.ProcessEnv;
}

/** The key Docker stores a registry's credentials under: `https://index.docker.io/v1/` for Docker Hub, `host:port` otherwise. */
export function dockerAuthKey(registry: string): string {
  const host = registry.toLowerCase();
  return host === 'docker.io' || host === 'index.docker.io' || host === 'registry-1.docker.io' ? DOCKER_HUB_AUTH_KEY : registry;
}

/** `https://host:5000/v1/` -> `host:5000` (Docker's ConvertToHostname). */
export function convertToHostname(key: string): string {
  let stripped = key;
  if (stripped.startsWith('http://')) stripped = stripped.slice(7);
  else if (stripped.startsWith('https://')) stripped = stripped.slice(8);
  return stripped.split('/')[0]!;
}

export function dockerConfigPath(options: DockerConfigOptions = {}): string {
  const env = options.env ?? process.env;
  const dir = options.configDir ?? env.DOCKER_CONFIG ?? join(env.HOME ?? homedir(), '.docker');
  return join(dir, 'config.json');
}

export async function readDockerConfig(options: DockerConfigOptions = {}): Promise<DockerConfigFile | undefined> {
  try {
    return JSON.parse(await readFile(dockerConfigPath(options), 'utf8')) as DockerConfigFile;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`cannot read Docker config ${dockerConfigPath(options)}: ${(error as Error).message}`);
  }
}

/** Pure: the `auths` entry for `registry`, decoded. */
export function credentialsFromAuths(config: DockerConfigFile, registry: string): RegistryCredentials | undefined {
  const auths = config.auths ?? {};
  const wanted = dockerAuthKey(registry);
  const entry =
    auths[wanted] ??
    Object.entries(auths).find(([key]) => convertToHostname(key).toLowerCase() === convertToHostname(wanted).toLowerCase())?.[1];
  if (!entry) return undefined;
  const out: RegistryCredentials = {};
  if (entry.auth) {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0) {
      out.username = decoded.slice(0, colon);
      out.password = decoded.slice(colon + 1);
    }
  }
  if (entry.username) out.username = entry.username;
  if (entry.password) out.password = entry.password;
  if (entry.identitytoken) out.identityToken = entry.identitytoken;
  if (entry.registrytoken) out.registryToken = entry.registrytoken;
  return Object.keys(out).length > 0 ? out : undefined;
}

/** Pure: which credential helper serves `registry`, if any (`credHelpers` first, then `credsStore`). */
export function credentialHelperFor(config: DockerConfigFile, registry: string): string | undefined {
  const helpers = config.credHelpers ?? {};
  const host = convertToHostname(dockerAuthKey(registry)).toLowerCase();
  const specific = Object.entries(helpers).find(([key]) => convertToHostname(key).toLowerCase() === host)?.[1];
  return specific ?? (config.credsStore || undefined);
}

/** Credentials for `registry` as Docker would find them; undefined means anonymous. */
export async function resolveDockerCredentials(
  registry: string,
  options: DockerConfigOptions = {},
): Promise<RegistryCredentials | undefined> {
  const config = await readDockerConfig(options);
  if (!config) return undefined;
  const helper = credentialHelperFor(config, registry);
  if (helper) {
    const fromHelper = await getFromCredentialHelper(helper, dockerAuthKey(registry), options.env ?? process.env);
    if (fromHelper) return fromHelper;
    // A helper with nothing for this host: Docker falls back to the file's auths for credsStore.
  }
  return credentialsFromAuths(config, registry);
}

/** `resolveDockerCredentials` as a result that names the registry it was read for. */
export async function resolveRegistryCredentials(registry: string, options: DockerConfigOptions = {}): Promise<ResolvedCredentials> {
  return { registry, credentials: await resolveDockerCredentials(registry, options) };
}
