import type { Image } from '../oci/image';
import { withZstdLayersDecompressed } from '../oci/zstd-layers';
import { progressStages } from '../util/progress-tap';
import type { OnProgress } from '../util/progress';
import { dockerArchiveSize, dockerArchiveStream, heldBottomLayers } from './docker-archive';
import { DockerCommandError, runDocker, type DockerCliOptions } from './docker-cli';
import { dockerImageStore } from './docker-engine';

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

/**
 * Streams `image` into `docker load` (tagged `repoTags`) and returns the
 * loaded image id and names. Throws `DockerCommandError` (exit code, stderr,
 * cause) when docker fails or the archive cannot be produced.
 */
export async function dockerLoad(original: Image, repoTags: readonly string[], options: DockerLoadOptions = {}): Promise<DockerLoadResult> {
  const store = await dockerImageStore(options);
  // containerd's store takes zstd layers as they are (the image keeps its manifest digest, which is its id there);
  // the classic store of Docker 20.10 rejects them, so it (or an engine that does not say) gets plain tars (same
  // config, same id). Layers are left out only where the classic store is known to hold them.
  const image = store === 'containerd' ? original : await withZstdLayersDecompressed(original);
  const archiveOptions = { omitBottomLayers: store === 'classic' ? await reusableBottomLayers(image, options) : 0 };
  const { stdout } = await runDocker(['load'], {
    ...options,
    stdin: dockerArchiveStream(image, repoTags, archiveOptions),
    stdinThrough: progressStages({
      label: 'docker load',
      total: dockerArchiveSize(image, repoTags, archiveOptions),
      onProgress: options.onProgress,
    }),
  });
  const parsed = parseDockerLoadOutput(stdout);
  // The engine's id is the config digest with the classic image store, the
  // manifest (or index) digest with containerd's: ask the engine when we can.
  const named = parsed.loaded[0] ?? repoTags[0];
  const imageId = parsed.imageIds[0] ?? (named ? await dockerImageId(named, options) : undefined) ?? image.config.descriptor.digest;
  return { imageId, loaded: parsed.loaded, layersSent: image.layers.length - archiveOptions.omitBottomLayers };
}

/**
 * Bottom layers of `image` the engine holds (0 when unsure). Classic image store only: the containerd store reads
 * every blob of the archive, so there all are sent.
 */
async function reusableBottomLayers(image: Image, options: DockerLoadOptions): Promise<number> {
  if (!options.reuseLayersOf?.length) return 0;
  const held = await heldLayersOf(options.reuseLayersOf, options);
  const config = JSON.parse(image.config.bytes.toString('utf8')) as { rootfs?: { diff_ids?: string[] } };
  return heldBottomLayers(config.rootfs?.diff_ids ?? [], held);
}

/** The diff_ids (RootFS.Layers) of each of `refs` the engine holds; refs it lacks are left out. */
export async function heldLayersOf(refs: readonly string[], options: DockerCliOptions = {}): Promise<string[][]> {
  const held: string[][] = [];
  for (const ref of refs) {
    const inspect = await runDocker(['image', 'inspect', '--format', '{{json .RootFS.Layers}}', ref], options).catch(() => undefined);
    if (!inspect) continue;
    try {
      held.push(JSON.parse(inspect.stdout) as string[]);
    } catch {
      // not JSON: ignore this image
    }
  }
  return held;
}

/** The id of the image `ref` in the engine, or undefined when the engine has no such image. */
export async function dockerImageId(ref: string, options: DockerCliOptions = {}): Promise<string | undefined> {
  try {
    return (await runDocker(['image', 'inspect', '--format', '{{.Id}}', ref], options)).stdout.trim();
  } catch (error) {
    if (error instanceof DockerCommandError && /no such (image|object)/i.test(error.stderr)) return undefined;
    throw error;
  }
}

/** Gives the image `source` (a name or id) the name `target`. */
export async function dockerTag(source: string, target: string, options: DockerCliOptions = {}): Promise<void> {
  await runDocker(['tag', source, target], options);
}
