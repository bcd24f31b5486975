import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Image } from '../oci/image';
import type { OnProgress } from '../util/progress';
import { dockerArchiveSize, dockerArchiveStream, heldBottomLayers } from './docker-archive';
import { withZstdLayersDecompressed } from '../oci/zstd-layers';

export interface DockerCliOptions {
  /** Engine address (`unix:///...`, `tcp://...`); default: the `DOCKER_HOST` of this process, else Docker's default. */
  dockerHost?: string;
  /** The docker CLI to run. Default `docker`. */
  dockerCommand?: string;
}

export interface DockerLoadOptions extends DockerCliOptions {
  onProgress?: OnProgress;
  /**
   * Images already in the engine that may share bottom layers with this one
   * (e.g. the previous build under the same tags): with Docker's classic image
   * store the layers they hold are not sent again.
   */
  reuseLayersOf?: readonly string[];
}

export interface DockerLoadResult {
  /** The loaded image's id (its config digest). */
  imageId: string;
  /** Names docker reported as loaded (`repo:tag`). */
  loaded: string[];
  /** Layers whose bytes went into the archive (the others the engine already held). */
  layersSent: number;
}

export class DockerLoadError extends Error {
  override readonly name = 'DockerLoadError';
  constructor(message: string, readonly exitCode: number | undefined, readonly stderr: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

export class DockerCommandError extends Error {
  override readonly name = 'DockerCommandError';
  constructor(readonly args: readonly string[], readonly exitCode: number | undefined, readonly stderr: string, options?: { cause?: unknown }) {
    super(`docker ${args.join(' ')} failed${exitCode !== undefined ? ` (exit ${exitCode})` : ''}: ${stderr.trim() || 'no output'}`, options);
  }
}

/** Parses `docker load` output: `Loaded image: repo:tag` and `Loaded image ID: sha256:...` lines. */
export function parseDockerLoadOutput(stdout: string): { loaded: string[]; imageIds: string[] } {
  const loaded: string[] = [];
  const imageIds: string[] = [];
  for (const line of stdout.split(/\r?\n/)) {
    const id = /^Loaded image ID: (\S+)\s*$/.exec(line);
    if (id) {
      imageIds.push(id[1]!);
      continue;
    }
    const name = /^Loaded image: (\S+)\s*$/.exec(line);
    if (name) loaded.push(name[1]!);
  }
  return { loaded, imageIds };
}

function cliEnv(options: DockerCliOptions): Record<string, string> {
  return options.dockerHost ? { DOCKER_HOST: options.dockerHost } : {};
}

class ProgressTap extends Transform {
  private bytes = 0;
  private reported = 0;
  constructor(private readonly total: number, private readonly onProgress: OnProgress) {
    super();
  }
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes - this.reported >= 8 * 1024 * 1024) {
      this.reported = this.bytes;
      this.onProgress({ label: 'docker load', bytes: this.bytes, total: this.total });
    }
    callback(null, chunk);
  }
  override _flush(callback: TransformCallback): void {
    this.onProgress({ label: 'docker load', bytes: this.bytes, total: this.total });
    callback();
  }
}

/**
 * Streams `image` into `docker load` (tagged `repoTags`) and returns the
 * loaded image id and names. Throws `DockerLoadError` (exit code, stderr,
 * cause) when docker fails or the archive cannot be produced.
 */
export async function dockerLoad(original: Image, repoTags: readonly string[], options: DockerLoadOptions = {}): Promise<DockerLoadResult> {
  const image = await withZstdLayersDecompressed(original);
  const { execa } = await import('execa');
  const archiveOptions = { omitBottomLayers: await reusableBottomLayers(image, options) };
  const archive = dockerArchiveStream(image, repoTags, archiveOptions);
  const child = execa(options.dockerCommand ?? 'docker', ['load'], {
    env: cliEnv(options),
    stdin: 'pipe',
    reject: false,
    stripFinalNewline: true,
    maxBuffer: 16 * 1024 * 1024,
  });
  const stages: NodeJS.ReadWriteStream[] = options.onProgress ? [new ProgressTap(dockerArchiveSize(image, repoTags, archiveOptions), options.onProgress)] : [];
  const feeding = pipeline([archive, ...stages, child.stdin!] as unknown as Parameters<typeof pipeline>[0][]).then(
    () => undefined,
    (error: unknown) => {
      child.kill();
      return error;
    },
  );
  const [result, feedError] = await Promise.all([child, feeding]);
  const stderr = String(result.stderr ?? '');
  if (feedError && !isBrokenPipe(feedError)) {
    throw new DockerLoadError(`Streaming the image archive into docker load failed: ${(feedError as Error).message}`, result.exitCode, stderr, { cause: feedError });
  }
  if (result.failed) {
    throw new DockerLoadError(
      `docker load failed${result.exitCode !== undefined ? ` (exit ${result.exitCode})` : ''}: ${stderr.trim() || result.shortMessage}`,
      result.exitCode,
      stderr,
      { cause: feedError ?? result },
    );
  }
  const parsed = parseDockerLoadOutput(String(result.stdout ?? ''));
  // The engine's id is the config digest with the classic image store, the
  // manifest (or index) digest with containerd's: ask the engine when we can.
  const named = parsed.loaded[0] ?? repoTags[0];
  const imageId = parsed.imageIds[0] ?? (named ? await dockerImageId(named, options) : undefined) ?? image.config.descriptor.digest;
  return { imageId, loaded: parsed.loaded, layersSent: image.layers.length - archiveOptions.omitBottomLayers };
}

function isBrokenPipe(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'EPIPE' || code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'ERR_STREAM_DESTROYED';
}

/** Bottom layers of `image` the engine holds (classic image store only; 0 when unsure). */
async function reusableBottomLayers(image: Image, options: DockerLoadOptions): Promise<number> {
  if (!options.reuseLayersOf?.length) return 0;
  const { execa } = await import('execa');
  const env = cliEnv(options);
  const command = options.dockerCommand ?? 'docker';
  const info = await execa(command, ['info', '--format', '{{json .DriverStatus}}'], { env, reject: false });
  // The containerd image store reads every blob of the archive: send them all.
  if (info.failed || /containerd/i.test(String(info.stdout))) return 0;
  const held: string[][] = [];
  for (const ref of options.reuseLayersOf) {
    const inspect = await execa(command, ['image', 'inspect', '--format', '{{json .RootFS.Layers}}', ref], { env, reject: false });
    if (inspect.failed) continue;
    try {
      held.push(JSON.parse(String(inspect.stdout)) as string[]);
    } catch {
      // not JSON: ignore this image
    }
  }
  const config = JSON.parse(image.config.bytes.toString('utf8')) as { rootfs?: { diff_ids?: string[] } };
  return heldBottomLayers(config.rootfs?.diff_ids ?? [], held);
}

/** The id of the image `ref` in the engine, or undefined when the engine has no such image. */
export async function dockerImageId(ref: string, options: DockerCliOptions = {}): Promise<string | undefined> {
  const { execa } = await import('execa');
  const args = ['image', 'inspect', '--format', '{{.Id}}', ref];
  const result = await execa(options.dockerCommand ?? 'docker', args, { env: cliEnv(options), reject: false });
  if (!result.failed) return String(result.stdout).trim();
  const stderr = String(result.stderr ?? '');
  if (/no such (image|object)/i.test(stderr)) return undefined;
  throw new DockerCommandError(args, result.exitCode, stderr, { cause: result });
}
