/**
 * One read per byte for a cold load into Docker's classic image store: the hash pass reads each file once,
 * and from that read come its layer's tar bytes, the layer digest and (when the stat cache does not have it
 * yet) its sha256, while the same bytes go into `docker load` (a `StreamedDockerLoad`, via `readLayersOnce`).
 * The build then costs about the larger of the read and Docker's load, not their sum.
 * The image is then assembled as always (the group layers' digests come from the layer digest cache, where
 * this pass put them; a large file's from its hash), and the load is finished with its config and
 * manifest.json only when its layers are exactly the bytes carried (`StreamedDockerLoad.finish`).
 *
 * Anything else takes the usual path (`hashFiles`, then `dockerLoad` of the assembled image): an engine
 * with containerd's image store (it reads blobs by digest from the OCI index), compressed layers (their
 * digests need the compressed bytes), absent or remote files, and Docker holding the bottom layer under the
 * asset's tags (an edit: only the changed layers go to Docker then; or the image itself: nothing goes). A file that changed while it was read abandons the stream (nothing is tagged)
 * and the usual path hashes again.
 */
import type { HashPass } from '../asset/analyze-asset';
import type { PlannedLayer } from '../asset/layer-plan';
import { groupLayerKey } from '../assembly/build-asset-image';
import type { LayerDigestCache } from '../assembly/layer-digest-cache';
import { cachedSha256, readLayersOnce } from '../assembly/layer-read-pass';
import { hashFiles, type FileHash, type HashFilesOptions, type HashInputFile } from '../hashing/hasher';
import { frameKey } from '../hashing/stat-cache';
import type { Image } from '../oci/image';
import { dockerImageStore } from '../transports/docker-engine';
import { heldLayersOf, type DockerLoadResult } from '../transports/docker-load';
import { StreamedDockerLoad } from '../transports/streamed-docker-load';
import type { DockerCliOptions } from '../transports/docker-cli';
import type { OnProgress } from '../util/progress';

export { FilesChangedWhileStreamedError } from '../assembly/layer-read-pass';

export interface StreamedLoadOptions extends DockerCliOptions {
  /** SOURCE_DATE_EPOCH of the tar entries (the build's). */
  mtime: number;
  layerDigests: LayerDigestCache;
  /** Whether the build may stream (load asked for, layers uncompressed); the engine is asked only when it may. */
  allowed: boolean;
  /** docker load's progress. */
  onProgress?: OnProgress;
  /** The asset's tags (`image:tag`): when an image Docker holds under them has this build's bottom layer, the usual load sends only the layers above it. */
  references?: readonly string[];
}

export class StreamedLoadPass {
  private load: StreamedDockerLoad | undefined;
  /** Why the pass did not stream after all, when it tried (for the build's report). */
  abandoned: Error | undefined;

  constructor(private readonly options: StreamedLoadOptions) {}

  /** The hash pass for `prepareAsset`: streams into docker load when it is worth it, else `hashFiles`. */
  readonly hashPass: HashPass = async (files, hashOptions, plan) => {
    if (!(await this.worthStreaming(files, hashOptions, plan))) return hashFiles(files, hashOptions);
    const load = StreamedDockerLoad.start({
      ...dockerCli(this.options),
      onProgress: this.options.onProgress,
      expectedBytes: plan.reduce((sum, layer) => sum + layer.size, 0),
    });
    this.load = load;
    try {
      return await this.stream(load, files, hashOptions, plan);
    } catch (error) {
      this.load = undefined;
      this.abandoned = error as Error;
      await load.abort(error);
      return hashFiles(files, hashOptions);
    }
  };

  /** Whether the build may stream at all (load asked for, layers uncompressed): its hash pass may then read into Docker. */
  get mayStream(): boolean {
    return this.options.allowed;
  }

  /** Whether a load is streaming, waiting for `finish`. */
  get streaming(): boolean {
    return this.load !== undefined;
  }

  /** Ends the streamed load with `image` (its layers must be the ones streamed) under `repoTags`. */
  async finish(image: Image, repoTags: readonly string[]): Promise<DockerLoadResult> {
    const load = this.load;
    if (!load) throw new Error('StreamedLoadPass.finish: no load is streaming');
    this.load = undefined;
    return load.finish(image, repoTags);
  }

  /** Abandons a load still streaming (nothing of it is tagged). */
  async abort(reason?: unknown): Promise<void> {
    const load = this.load;
    this.load = undefined;
    await load?.abort(reason);
  }

  /**
   * Whether this is a cold load into the classic store: every planned file is one to read here, and Docker does
   * not hold the build's bottom layer under the asset's tags (it does after an edit above it, or when it has the
   * image: the usual load then sends only what Docker lacks, or nothing). Whether the digests are known yet does
   * not matter: under Nx the content key (a runtime input, run before the task) has hashed every file and group
   * (`groupDigestHashPass`), and the bytes must still be read once into Docker; this pass reads them once, and a
   * digest it does not know yet comes from that same read.
   */
  private async worthStreaming(
    files: readonly HashInputFile[],
    hashOptions: HashFilesOptions,
    plan: readonly PlannedLayer[],
  ): Promise<boolean> {
    if (!this.options.allowed || plan.length === 0) return false;
    // Every planned file must be one to read here, with the scan's stat (absent files are pinned layers; remote sources are not stat'ed).
    const byRelPath = new Map(files.filter((f) => f.stamped !== undefined).map((f) => [f.relPath!, f]));
    if (!plan.every((layer) => layer.files.every((f) => byRelPath.has(f.relPath)))) return false;
    if ((await dockerImageStore(dockerCli(this.options))) !== 'classic') return false;
    // The bottom layer's digest, when known without reading: Docker holding it under the asset's tags means an edit above it.
    const bottom = await this.knownDigest(plan[0]!, byRelPath, hashOptions);
    if (bottom === undefined) return true;
    const held = await heldLayersOf(this.options.references ?? [], dockerCli(this.options));
    return !held.some((layers) => layers[0] === bottom);
  }

  /** A layer's digest known without reading it: its files' hashes from the stat cache, then its large-file frame digest or group digest. */
  private async knownDigest(
    layer: PlannedLayer,
    byRelPath: ReadonlyMap<string, HashInputFile>,
    hashOptions: HashFilesOptions,
  ): Promise<string | undefined> {
    const inputs = layer.files.map((f) => byRelPath.get(f.relPath)!);
    const cached = inputs.map((f) => cachedSha256(f, hashOptions));
    if (cached.some((sha256) => sha256 === undefined)) return undefined;
    if (layer.kind === 'large-file') {
      const file = inputs[0]!;
      const layers = hashOptions.cache!.lookup(file.absPath, file.stamped!.stamp)?.layers;
      const hex = file.frame ? layers?.[frameKey(file.frame.prefix, file.frame.suffix)] : undefined;
      return hex === undefined ? undefined : `sha256:${hex}`;
    }
    const key = groupLayerKey(
      this.options.mtime,
      layer.files.map((f, i) => ({ ...f, sha256: cached[i]! })),
    );
    return (await this.options.layerDigests.get(key))?.digest;
  }

  private stream(
    load: StreamedDockerLoad,
    files: readonly HashInputFile[],
    hashOptions: HashFilesOptions,
    plan: readonly PlannedLayer[],
  ): Promise<FileHash[]> {
    return readLayersOnce(load, files, hashOptions, plan, { mtime: this.options.mtime, layerDigests: this.options.layerDigests });
  }
}

function dockerCli(options: DockerCliOptions): DockerCliOptions {
  return {
    ...(options.dockerHost !== undefined ? { dockerHost: options.dockerHost } : {}),
    ...(options.dockerCommand !== undefined ? { dockerCommand: options.dockerCommand } : {}),
  };
}
