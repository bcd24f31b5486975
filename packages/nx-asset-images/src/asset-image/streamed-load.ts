/**
 * One read per byte for a build that loads into Docker's classic image store and has most of its bytes to
 * hash: the hash pass reads each file once, and from that read comes its sha256 (the lock, the stat cache),
 * its layer's tar bytes and the layer digest, while the same bytes go into `docker load` (a
 * `StreamedDockerLoad`). The build then costs about the larger of the read and Docker's load, not their sum.
 * The image is then assembled as always (the group layers' digests come from the layer digest cache, where
 * this pass put them; a large file's from its hash), and the load is finished with its config and
 * manifest.json only when its layers are exactly the bytes carried (`StreamedDockerLoad.finish`).
 *
 * Anything else takes the usual path (`hashFiles`, then `dockerLoad` of the assembled image): an engine
 * with containerd's image store (it reads blobs by digest from the OCI index), compressed layers (their
 * digests need the compressed bytes), absent or remote files, a warm stat cache (an edit: only the changed
 * layers go to Docker then). A file that changed while it was read abandons the stream (nothing is tagged)
 * and the usual path hashes again.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import type { HashPass } from '../asset/analyze-asset';
import type { PlannedLayer } from '../asset/layer-plan';
import { groupLayerKey } from '../assembly/build-asset-image';
import type { KnownBlob, LayerDigestCache } from '../assembly/layer-digest-cache';
import {
  hashCounters,
  hashFiles,
  isHashCached,
  rememberHash,
  statStampSync,
  type FileHash,
  type HashFilesOptions,
  type HashInputFile,
} from '../hashing/hasher';
import { frameKey, sameStamp } from '../hashing/stat-cache';
import { tarSize, tarStream, WHOLE_READ_MAX_BYTES } from '../tar/tar-stream';
import type { Image } from '../oci/image';
import { dockerImageStore } from '../transports/docker-engine';
import { heldLayersOf, type DockerLoadResult } from '../transports/docker-load';
import { StreamedDockerLoad } from '../transports/streamed-docker-load';
import type { DockerCliOptions } from '../transports/docker-cli';
import type { OnProgress } from '../util/progress';
import { readAhead } from '../util/read-ahead';

/** Files that changed between the scan and the end of their read: the bytes streamed may be neither version. */
export class FilesChangedWhileStreamedError extends Error {
  override readonly name = 'FilesChangedWhileStreamedError';
  constructor(readonly files: readonly string[]) {
    super(
      `${files.length} file(s) changed while they were read into docker load (${files.slice(0, 3).join(', ')}${files.length > 3 ? ', ...' : ''})`,
    );
  }
}

export interface StreamedLoadOptions extends DockerCliOptions {
  /** SOURCE_DATE_EPOCH of the tar entries (the build's). */
  mtime: number;
  layerDigests: LayerDigestCache;
  /** Whether the build may stream (load asked for, layers uncompressed); the engine is asked only when it may. */
  allowed: boolean;
  /** docker load's progress. */
  onProgress?: OnProgress;
  /** Share of the bytes that must be read before the image is known for the pass to stream; default 0.5. */
  minMissShare?: number;
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
   * Whether most of the bytes must be read before the image is known anyway: files the stat cache does not
   * answer for, and small-file groups whose digest the layer digest cache lacks. Under Nx the content key
   * (a runtime input, run before the task) has usually hashed the files already; the groups' tars are still
   * to be read then, and this pass reads them once, into Docker, instead of once for the digests and once more
   * for the load.
   */
  private async worthStreaming(
    files: readonly HashInputFile[],
    hashOptions: HashFilesOptions,
    plan: readonly PlannedLayer[],
  ): Promise<boolean> {
    if (!this.options.allowed) return false;
    // Every planned file must be one to read here, with the scan's stat (absent files are pinned layers; remote sources are not stat'ed).
    const byRelPath = new Map(files.filter((f) => f.stamped !== undefined).map((f) => [f.relPath!, f]));
    if (!plan.every((layer) => layer.files.every((f) => byRelPath.has(f.relPath)))) return false;
    let total = 0;
    let unknown = 0;
    // The bottom layer's digest, when known without reading.
    let bottom: string | undefined;
    for (const [index, layer] of plan.entries()) {
      total += layer.size;
      const digest = await this.knownDigest(layer, byRelPath, hashOptions);
      if (digest === undefined) unknown += layer.size;
      if (index === 0) bottom = digest;
    }
    if (unknown === 0 || unknown < (this.options.minMissShare ?? 0.5) * total) return false;
    if ((await dockerImageStore(dockerCli(this.options))) !== 'classic') return false;
    // Docker holds this build's bottom layer under the asset's tags (an edit above it): the usual load leaves out what it holds.
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

  private async stream(
    load: StreamedDockerLoad,
    files: readonly HashInputFile[],
    hashOptions: HashFilesOptions,
    plan: readonly PlannedLayer[],
  ): Promise<FileHash[]> {
    const byRelPath = new Map(files.map((file) => [file.relPath!, file]));
    const sha256 = new Map<string, string>();
    // Files the stat cache answers for (the content key hashed them) are read for their layer, not hashed again.
    const known = new Map<string, string>();
    for (const file of files) {
      const cached = cachedSha256(file, hashOptions);
      if (cached !== undefined) known.set(file.relPath!, cached);
    }
    const onHash = (file: HashInputFile) => (known.has(file.relPath!) ? undefined : (hex: string) => sha256.set(file.relPath!, hex));
    const framed = new Map<string, string>();
    const groups: [string, KnownBlob][] = [];
    const report = (file: HashInputFile, bytes: number) => hashOptions.onProgress?.({ label: file.relPath!, bytes, total: file.size });
    for (const layer of plan) {
      const inputs = layer.files.map((f) => byRelPath.get(f.relPath)!);
      if (layer.kind === 'large-file') {
        const file = inputs[0]!;
        const frame = file.frame!;
        const content = hashedRead(file, onHash(file), report);
        const written = await load.writeLayer(frame.prefix.length + file.size + frame.suffix.length, framedBytes(frame, content));
        framed.set(file.relPath!, written.digest.slice('sha256:'.length));
        continue;
      }
      const ahead = readAhead(inputs.map((f) => (f.size <= WHOLE_READ_MAX_BYTES ? { path: f.absPath, size: f.size } : undefined)));
      const entries = layer.files.map((planned, i) => {
        const file = inputs[i]!;
        return {
          path: planned.imagePath,
          mode: planned.mode,
          size: planned.size,
          open: () => Readable.from(hashedRead(file, onHash(file), report)),
          read: async () => {
            const bytes = await ahead(i);
            onHash(file)?.(createHash('sha256').update(bytes).digest('hex'));
            countRead(bytes.length);
            report(file, bytes.length);
            return bytes;
          },
        };
      });
      const written = await load.writeLayer(
        tarSize(entries, { mtime: this.options.mtime }),
        tarStream(entries, { mtime: this.options.mtime }),
      );
      const key = groupLayerKey(
        this.options.mtime,
        layer.files.map((f) => ({ ...f, sha256: known.get(f.relPath) ?? sha256.get(f.relPath)! })),
      );
      groups.push([key, { digest: written.digest, size: written.size }]);
    }
    // Read and sent: each file must still be what the scan stat'ed, or the bytes may be neither version.
    const changed = files.filter((file) => !sameStamp(statStampSync(file.absPath).stamp, file.stamped!.stamp)).map((f) => f.relPath!);
    if (changed.length > 0) throw new FilesChangedWhileStreamedError(changed);
    // Only now: a group read while one of its files changed must not be remembered under its files' hashes.
    for (const [key, blob] of groups) await this.options.layerDigests.set(key, blob);
    return files.map((file) => {
      const cached = known.get(file.relPath!);
      const hex = cached ?? sha256.get(file.relPath!)!;
      const layerHex = framed.get(file.relPath!);
      if (cached === undefined)
        rememberHash(file, file.stamped!, { sha256: hex, size: file.size, ...(layerHex ? { framedSha256: layerHex } : {}) }, hashOptions);
      const result: FileHash = { absPath: file.absPath, sha256: hex, size: file.size, fromCache: cached !== undefined };
      if (layerHex) result.layerDigest = `sha256:${layerHex}`;
      return result;
    });
  }
}

/** The file's sha256 when the stat cache answers for it as scanned (with its layer digest, for a large file). */
function cachedSha256(file: HashInputFile, hashOptions: HashFilesOptions): string | undefined {
  if (!file.stamped || !isHashCached(file, file.stamped.stamp, hashOptions.cache)) return undefined;
  return hashOptions.cache!.lookup(file.absPath, file.stamped.stamp)!.sha256;
}

function dockerCli(options: DockerCliOptions): DockerCliOptions {
  return {
    ...(options.dockerHost !== undefined ? { dockerHost: options.dockerHost } : {}),
    ...(options.dockerCommand !== undefined ? { dockerCommand: options.dockerCommand } : {}),
  };
}

function countRead(bytes: number): void {
  hashCounters.filesOpened++;
  hashCounters.bytesRead += bytes;
}

/** The file's chunks, hashed on the way; `done` gets the hex sha256 at the end. */
async function* hashedRead(
  file: HashInputFile,
  done: ((hex: string) => void) | undefined,
  report: (file: HashInputFile, bytes: number) => void,
): AsyncGenerator<Buffer> {
  const hash = done ? createHash('sha256') : undefined;
  let bytes = 0;
  for await (const chunk of createReadStream(file.absPath, { highWaterMark: 1024 * 1024 })) {
    const buffer = chunk as Buffer;
    hash?.update(buffer);
    bytes += buffer.length;
    report(file, bytes);
    yield buffer;
  }
  countRead(bytes);
  if (done) done(hash!.digest('hex'));
}

async function* framedBytes(frame: { prefix: Buffer; suffix: Buffer }, content: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  yield frame.prefix;
  yield* content;
  yield frame.suffix;
}
