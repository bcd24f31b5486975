/** `docker build` / `docker buildx build` arguments from the executor's options. Pure. */
import type { DockerImageStore } from '../transports/docker-engine';
import type { DockerBuildOptions } from './docker-build-options';

export interface DockerBuildInvocation {
  /** Use `docker buildx build` (with `--build-context`s) instead of `docker build`. */
  buildx: boolean;
  /** Tags to apply (already defaulted). */
  tags: readonly string[];
  /** `name -> source` for `--build-context` (buildx only). */
  buildContexts?: Readonly<Record<string, string>>;
  /**
   * buildx only: the compression of the layers BuildKit exports into Docker (`--output type=docker,compression=...`
   * instead of `--load`). Unset: `--load`, BuildKit's default (gzip on the containerd image store).
   */
  exportCompression?: string;
}

/** Flags by which the user chose where buildx sends the result: then docker-build adds none of its own. */
const OUTPUT_FLAGS = /^(--output|-o|--load|--push)(=|$)|^-o./;

export function dockerBuildArgv(options: DockerBuildOptions, invocation: DockerBuildInvocation): string[] {
  const argv = invocation.buildx ? ['buildx', 'build'] : ['build'];
  argv.push('-f', options.dockerfile);
  for (const tag of invocation.tags) argv.push('-t', tag);
  for (const [name, value] of Object.entries(options.buildArgs ?? {})) argv.push('--build-arg', `${name}=${value}`);
  if (options.target) argv.push('--target', options.target);
  if (options.platform) argv.push('--platform', options.platform);
  if (options.network) argv.push(`--network=${options.network}`);
  argv.push(`--pull=${options.pull === true ? 'true' : 'false'}`);
  if (options.noCache) argv.push('--no-cache');
  if (invocation.buildx) {
    for (const [name, value] of Object.entries(invocation.buildContexts ?? {})) argv.push('--build-context', `${name}=${value}`);
    const ownOutput = (options.extraArgs ?? []).some((arg) => OUTPUT_FLAGS.test(arg));
    if ((options.load ?? true) && !ownOutput) {
      if (invocation.exportCompression) argv.push('--output', `type=docker,compression=${invocation.exportCompression}`);
      else argv.push('--load');
    }
  }
  argv.push(...(options.extraArgs ?? []));
  argv.push(options.context);
  return argv;
}

export function defaultTags(options: DockerBuildOptions, projectName: string | undefined): string[] {
  if (options.tags && options.tags.length > 0) return [...options.tags];
  if (!projectName) throw new Error('docker-build: no tags given and no project name to default to');
  // Docker repository names are lowercase, without `@` (Nx names may be `@scope/App`).
  const name = projectName
    .toLowerCase()
    .replace(/[^a-z0-9._/-]+/g, '-')
    .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '');
  return [`${name || 'app'}:latest`];
}

/**
 * The compression of the app's layers BuildKit exports into Docker: the option, else `uncompressed` on the
 * containerd image store (measured: exporting gzip-compresses every new layer, the asset's multi-GB ones included,
 * and that was most of the app build), else BuildKit's own default.
 */
export function exportCompressionOf(
  options: Pick<DockerBuildOptions, 'exportCompression'>,
  store: DockerImageStore | undefined,
): string | undefined {
  if (options.exportCompression === 'default') return undefined;
  return options.exportCompression ?? (store === 'containerd' ? 'uncompressed' : undefined);
}
