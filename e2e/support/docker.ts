// The docker CLI against the test run's own dockerd (DOCKER_HOST from the
// services env; never the system daemon).
//
// The test dockerd runs with --bridge=none: there is no `bridge` network.
// - `docker build` needs `--network=host` (or none) so that BuildKit RUN steps
//   work ("network bridge not found" otherwise); the legacy builder works
//   either way. dockerBuild passes --network=host, so RUN steps may also
//   reach the 127.0.0.1 registries.
// - `docker run` works without a flag; dockerRunRm passes --network=none
//   (hermetic) unless told otherwise; use 'host' to reach 127.0.0.1 services.
import { variantOf, type AssetImageResult } from '../../packages/nx-asset-images/src/asset/asset-image-result';
import { exec, ExecOptions, ExecResult } from './exec';
import { servicesEnv } from './services';
import { e2eEngineOf, type E2eEngine } from './services-env';

export interface DockerOptions extends Omit<ExecOptions, 'env'> {
  /** Extra environment for the CLI, over process.env and the services env. */
  env?: NodeJS.ProcessEnv;
}

export function dockerEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const s = servicesEnv();
  const env: NodeJS.ProcessEnv = { ...process.env, DOCKER_HOST: s.DOCKER_HOST, ...extra };
  if (s.DOCKER_CONFIG) env.DOCKER_CONFIG = s.DOCKER_CONFIG;
  return env;
}

export function docker(args: readonly string[], opts: DockerOptions = {}): Promise<ExecResult> {
  return exec('docker', args, { timeoutMs: 240_000, ...opts, env: dockerEnv(opts.env) });
}

export interface DockerBuildOptions extends DockerOptions {
  /** Dockerfile path (default: <contextDir>/Dockerfile). */
  file?: string;
  buildArgs?: Record<string, string>;
  network?: 'host' | 'none';
}

export function dockerBuild(contextDir: string, tag: string, opts: DockerBuildOptions = {}): Promise<ExecResult> {
  const { file, buildArgs = {}, network = 'host', ...rest } = opts;
  const args = ['build', `--network=${network}`, '-t', tag];
  if (file) args.push('-f', file);
  for (const [k, v] of Object.entries(buildArgs)) args.push('--build-arg', `${k}=${v}`);
  args.push(contextDir);
  return docker(args, rest);
}

export interface DockerRunOptions extends DockerOptions {
  network?: 'host' | 'none' | 'default';
  /** Extra `docker run` flags placed before the image. */
  flags?: readonly string[];
}

export function dockerRunRm(image: string, cmd: readonly string[] = [], opts: DockerRunOptions = {}): Promise<ExecResult> {
  const { network = 'none', flags = [], ...rest } = opts;
  const args = ['run', '--rm'];
  if (network !== 'default') args.push(`--network=${network}`);
  args.push(...flags, image, ...cmd);
  return docker(args, rest);
}

/** Removes every image of these repositories (all their tags, by id), so the next step must get them anew. */
export async function removeImagesOf(...repositories: string[]): Promise<void> {
  const ids = new Set<string>();
  for (const repository of repositories) {
    for (const id of (await docker(['image', 'ls', '-q', '--filter', `reference=${repository}`])).stdout.split('\n').filter(Boolean))
      ids.add(id);
  }
  if (ids.size > 0) await docker(['rmi', '-f', ...ids], { reject: false });
}

/** The engine this run's Docker tests use (NXAI_E2E_DOCKER, set for the run by global-setup's caller). */
export function e2eEngine(): E2eEngine {
  return e2eEngineOf(process.env['NXAI_E2E_DOCKER']);
}

/**
 * Env for a `docker build` with BuildKit. On 20.10 that is Docker 20.10's own CLI (/usr/bin/docker): the newer CLI first
 * on PATH wants the buildx plugin for DOCKER_BUILDKIT=1. On 26 the run's PATH already starts with Docker 26's CLI,
 * whose DOCKER_CONFIG has the buildx plugin.
 */
export function buildkitEnv(): NodeJS.ProcessEnv {
  return e2eEngine() === '26' ? { DOCKER_BUILDKIT: '1' } : { DOCKER_BUILDKIT: '1', PATH: `/usr/bin:${process.env.PATH ?? ''}` };
}

/** A build as image.json records it: one manifest, or an index with a manifest and config per platform. */
export interface RecordedBuild {
  manifestDigest: string;
  configDigest: string;
  platforms?: { platform: string; manifestDigest: string; configDigest: string }[];
}

/**
 * The id `docker image inspect` gives for `build` loaded for `platform` (default linux/amd64, this machine's): the
 * classic image store names an image by its config digest, containerd's by the manifest digest of the variant.
 */
export function expectedDockerId(build: RecordedBuild, platform = 'linux/amd64'): string {
  const variant = variantOf(build as unknown as AssetImageResult, platform);
  if (!variant) throw new Error(`the build has no ${platform} variant`);
  return e2eEngine() === '26' ? variant.manifestDigest : variant.configDigest;
}

/** Removes a build from Docker by either id (config digest: classic store; manifest digest: containerd's); absent is fine. */
export async function removeBuild(build: { configDigest: string; manifestDigest: string }): Promise<void> {
  for (const id of [build.configDigest, build.manifestDigest]) await docker(['rmi', '-f', id], { reject: false });
}
