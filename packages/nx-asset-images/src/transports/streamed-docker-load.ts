/**
 * `docker load` fed while the layers are still being read, for Docker's classic image store (Docker 20.10
 * reads Docker's `manifest.json` form, where layers are named by path): each layer goes in as it is made,
 * under a path named by its place (`layers/<n>.tar`), and the config and manifest.json, which need every
 * layer's digest, come last. The build then costs about the larger of the read and Docker's load, not their sum.
 *
 * Nothing partial is ever tagged. The classic store unpacks the whole archive before it reads manifest.json,
 * checks every layer it registers against the config's diff_ids, and tags only after that: an archive cut
 * short (a killed build: docker reads an early end of its input) or abandoned (`abort` kills docker) names
 * no image. `finish` also checks the image against the digests of the bytes this archive carried before it
 * writes the config, so a config that does not describe them is never sent.
 * The containerd store reads the OCI `index.json` and blobs by digest, so it keeps `dockerLoad`'s archive.
 */
import { PassThrough, type Readable } from 'node:stream';
import { digestExactly } from '../oci/digest';
import type { Digest, Image } from '../oci/image';
import { END_OF_ARCHIVE, encodeEntryHeader, paddingFor } from '../tar/tar-header';
import { progressStages } from '../util/progress-tap';
import type { OnProgress } from '../util/progress';
import { dockerRepoTags, type DockerArchiveManifestEntry } from './docker-archive';
import { runDocker, type DockerCliOptions, type DockerRunResult } from './docker-cli';
import { dockerImageId, parseDockerLoadOutput, type DockerLoadResult } from './docker-load';

/** A layer as the archive carried it. */
export interface StreamedLayer {
  path: string;
  digest: Digest;
  size: number;
}

/** The image to finish the load with does not describe the layers the archive carried: nothing is tagged. */
export class StreamedLayersMismatchError extends Error {
  override readonly name = 'StreamedLayersMismatchError';
  constructor(
    readonly streamed: readonly StreamedLayer[],
    readonly expected: readonly { digest: string; size: number }[],
  ) {
    super(
      `docker load: the image names ${expected.length} layer(s) (${expected.map((l) => l.digest).join(', ')}) but the archive carried ` +
        `${streamed.length} (${streamed.map((l) => l.digest).join(', ')}); the load is abandoned`,
    );
  }
}

/** A layer's bytes did not add up to the size its tar header announced. */
export class StreamedLayerSizeError extends Error {
  override readonly name = 'StreamedLayerSizeError';
  constructor(
    readonly path: string,
    readonly expected: number,
    readonly actual: number,
  ) {
    super(
      `docker load: layer ${path} was announced with ${expected} bytes, its source gave ${actual}${actual > expected ? ' or more' : ''}`,
    );
  }
}

/** The stream was used after `finish` or `abort`, or docker ended before the archive did. */
export class StreamedLoadClosedError extends Error {
  override readonly name = 'StreamedLoadClosedError';
  constructor(
    readonly state: string,
    options?: { cause?: unknown },
  ) {
    super(`docker load: the streamed archive is ${state}`, options);
  }
}

export interface StreamedDockerLoadOptions extends DockerCliOptions {
  onProgress?: OnProgress;
  /** Bytes the layers will take (for progress); the config and manifest.json come on top. */
  expectedBytes?: number;
}

const CONFIG_PATH = 'config.json';
const MANIFEST_PATH = 'manifest.json';

export class StreamedDockerLoad {
  private readonly input = new PassThrough({ highWaterMark: 1024 * 1024 });
  private readonly layers: StreamedLayer[] = [];
  private readonly run: Promise<DockerRunResult>;
  /** Rejects as soon as docker ends while the archive is still open (a failure, whatever its exit code). */
  private readonly ended: Promise<never>;
  private state: 'open' | 'finishing' | 'finished' | 'aborted' = 'open';

  private constructor(private readonly options: StreamedDockerLoadOptions) {
    this.run = runDocker(['load'], {
      ...options,
      stdin: this.input,
      stdinThrough: progressStages({ label: 'docker load', total: options.expectedBytes, onProgress: options.onProgress }),
    });
    this.ended = this.run.then(
      (result) => {
        throw new StreamedLoadClosedError(`ended by docker before its end (${result.stderr.trim() || 'no output'})`);
      },
      (error: unknown) => {
        throw error;
      },
    );
    // Observed through `ended` and `finish`; an abandoned load's failure is expected.
    this.ended.catch(() => {});
  }

  /** Starts `docker load`; its input stays open until `finish` or `abort`. */
  static start(options: StreamedDockerLoadOptions = {}): StreamedDockerLoad {
    return new StreamedDockerLoad(options);
  }

  /** The layers written so far, in order. */
  get written(): readonly StreamedLayer[] {
    return this.layers;
  }

  /** Appends the next layer: exactly `size` bytes from `bytes`, hashed on the way. Its digest is what Docker gets. */
  async writeLayer(size: number, bytes: AsyncIterable<Uint8Array> | Readable): Promise<StreamedLayer> {
    this.assertOpen();
    const path = `layers/${this.layers.length}.tar`;
    await this.write(encodeEntryHeader({ path, type: 'file', mode: 0o644, size, mtime: 0 }));
    const digest = await digestExactly(
      bytes,
      size,
      (actual) => new StreamedLayerSizeError(path, size, actual),
      (chunk) => this.write(chunk),
    );
    const padding = paddingFor(size);
    if (padding > 0) await this.write(Buffer.alloc(padding));
    const layer: StreamedLayer = { path, digest, size };
    this.layers.push(layer);
    return layer;
  }

  /**
   * Ends the archive with `image`'s config and manifest.json (tagged `repoTags`) and waits for docker. Throws
   * StreamedLayersMismatchError (and abandons the load) when the image's layers are not the ones carried.
   */
  async finish(image: Image, repoTags: readonly string[]): Promise<DockerLoadResult> {
    this.assertOpen();
    const same =
      image.layers.length === this.layers.length &&
      image.layers.every(
        (layer, i) =>
          layer.diffId === this.layers[i]!.digest &&
          layer.descriptor.digest === this.layers[i]!.digest &&
          layer.descriptor.size === this.layers[i]!.size,
      );
    if (!same) {
      const error = new StreamedLayersMismatchError(
        this.layers,
        image.layers.map((l) => l.descriptor),
      );
      await this.abort(error);
      throw error;
    }
    this.state = 'finishing';
    const manifest: DockerArchiveManifestEntry[] = [
      { Config: CONFIG_PATH, RepoTags: dockerRepoTags(repoTags), Layers: this.layers.map((l) => l.path) },
    ];
    try {
      await this.writeFile(CONFIG_PATH, image.config.bytes);
      await this.writeFile(MANIFEST_PATH, Buffer.from(JSON.stringify(manifest)));
      await this.write(END_OF_ARCHIVE);
      this.input.end();
      const { stdout } = await this.run;
      this.state = 'finished';
      const parsed = parseDockerLoadOutput(stdout);
      const named = parsed.loaded[0] ?? repoTags[0];
      const imageId =
        parsed.imageIds[0] ?? (named ? await dockerImageId(named, this.options) : undefined) ?? image.config.descriptor.digest;
      return { imageId, loaded: parsed.loaded, layersSent: this.layers.length };
    } catch (error) {
      if (this.state !== 'finished') await this.abort(error);
      throw error;
    }
  }

  /** Kills docker: the archive never ends, so nothing of it is tagged. Safe to call more than once. */
  async abort(reason?: unknown): Promise<void> {
    if (this.state === 'finished' || this.state === 'aborted') return;
    this.state = 'aborted';
    this.input.destroy(new StreamedLoadClosedError('abandoned', { cause: reason }));
    await this.run.catch(() => undefined);
  }

  private assertOpen(): void {
    if (this.state !== 'open') throw new StreamedLoadClosedError(this.state);
  }

  private async writeFile(path: string, bytes: Buffer): Promise<void> {
    await this.write(encodeEntryHeader({ path, type: 'file', mode: 0o644, size: bytes.length, mtime: 0 }));
    await this.write(bytes);
    const padding = paddingFor(bytes.length);
    if (padding > 0) await this.write(Buffer.alloc(padding));
  }

  /** Writes with backpressure; fails when docker has ended (it never drains then). */
  private async write(chunk: Buffer): Promise<void> {
    if (this.input.destroyed) throw new StreamedLoadClosedError('closed');
    if (this.input.write(chunk)) return;
    await Promise.race([new Promise<void>((resolve) => this.input.once('drain', resolve)), this.ended]);
  }
}
