/**
 * Bytes of a layer the lock pins whose files this clone lacks: from the
 * workspace's OCI layout store when it holds the blob, else fetched from the
 * asset's registry by digest (verified while streaming, resumed when the
 * connection drops) and kept in the store as it flows on to the consumer
 * (`docker load`, a push, an OCI layout). Nothing is fetched until a transport opens the layer
 * (a digest-only build, and the result, need no bytes).
 */
import { pipeline, Readable } from 'node:stream';
import { AssetAbsentFilesError } from '../errors/asset-errors';
import type { Descriptor } from '../oci/image';
import { parseImageReference, repositoryKey, withoutTagOrDigest, type ImageReference } from '../oci/image-reference';
import { hasBlob, openBlob, writeBlobThrough } from '../store/blob-store';
import { fetchBlob, RegistryError, type PullOptions } from '../transports/registry';
import type { OnProgress } from '../util/progress';
import { progressStages } from '../util/progress-tap';

export interface PinnedLayerBytesOptions {
  /** The workspace's OCI layout store. */
  layoutDir: string;
  /** asset.json `image`: its repository is asked for the layers first. */
  image: string;
  /** The lock's `image.repository` (`registry/repository`), asked next when it is another one. */
  lockRepository?: string;
  /** The lock file, for errors. */
  lockFile: string;
  /** The asset project, for the fix an error names. */
  project: string;
  pull?: PullOptions;
  onProgress?: OnProgress;
  /**
   * `false`: a blob the store lacks is streamed from the registry without
   * being kept, for a consumer that keeps what it needs itself and verifies
   * it (asset-pull checks each file it writes against the lock's sha256): its
   * size is checked, its digest is not computed (one hash pass, not two). Default: kept in the store
   * while it flows.
   */
  keep?: boolean;
}

export type PinnedLayerBytes = (descriptor: Descriptor, files: readonly string[]) => Readable;

export function pinnedLayerBytes(options: PinnedLayerBytesOptions): PinnedLayerBytes {
  return (descriptor, files) =>
    Readable.from(
      (async function* () {
        if (await hasBlob(options.layoutDir, descriptor)) {
          yield* openBlob(options.layoutDir, descriptor.digest);
        } else {
          const stream = await explained(options, descriptor, files, () => fetchFromSources(options, descriptor));
          const stages = progressStages({ label: descriptor.digest, total: descriptor.size, onProgress: options.onProgress });
          // pipeline: a failure of the response (a digest mismatch at its end) fails the stream read here.
          const flowing = stages.length === 0 ? stream : (pipeline([stream, ...stages], () => {}) as unknown as Readable);
          // Kept in the store while it flows on (unless told not to): the consumer need not wait for the whole blob on disk.
          const bytes = options.keep === false ? flowing : writeBlobThrough(options.layoutDir, descriptor, flowing);
          yield* explainedStream(options, descriptor, files, bytes);
        }
      })(),
      { objectMode: false },
    );
}

/** The repositories that may hold the layers: asset.json's image, then the lock's when it is another one. */
function sourcesOf(options: PinnedLayerBytesOptions): ImageReference[] {
  const refs = [withoutTagOrDigest(parseImageReference(options.image))];
  if (options.lockRepository !== undefined) {
    const recorded = parseImageReference(options.lockRepository);
    if (!refs.some((ref) => repositoryKey(ref) === repositoryKey(recorded))) refs.push(recorded);
  }
  return refs;
}

/** The blob from the first repository that has it; a 404 from every one is the last 404. */
async function fetchFromSources(options: PinnedLayerBytesOptions, descriptor: Descriptor): Promise<Readable> {
  let notFound: unknown;
  for (const ref of sourcesOf(options)) {
    try {
      // Kept in the store: the blob's digest is checked. Not kept: the consumer checks what it keeps (asset-pull: each file).
      return await fetchBlob(ref, descriptor.digest, {
        ...options.pull,
        size: descriptor.size,
        ...(options.keep === false ? { verifyDigest: false } : {}),
      });
    } catch (error) {
      if (!(error instanceof RegistryError && error.status === 404)) throw error;
      notFound = error;
    }
  }
  throw notFound;
}

/** The bytes of a fetch; a failure while they flow (the connection lost for good) is explained like a failure to start. */
async function* explainedStream(
  options: PinnedLayerBytesOptions,
  descriptor: Descriptor,
  files: readonly string[],
  bytes: AsyncIterable<Buffer>,
): AsyncGenerator<Buffer> {
  try {
    yield* bytes;
  } catch (error) {
    throw explanation(options, descriptor, files, error);
  }
}

/** Runs `work`; a registry failure becomes an AssetAbsentFilesError naming the files, the digest, the registry and the fix. */
async function explained<T>(
  options: PinnedLayerBytesOptions,
  descriptor: Descriptor,
  files: readonly string[],
  work: () => Promise<T>,
): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw explanation(options, descriptor, files, error);
  }
}

function explanation(
  options: PinnedLayerBytesOptions,
  descriptor: Descriptor,
  files: readonly string[],
  error: unknown,
): AssetAbsentFilesError {
  const where = sourcesOf(options)
    .map((ref) => `${ref.registry}/${ref.repository}`)
    .join(', ');
  if (error instanceof RegistryError && error.status === 404) {
    return new AssetAbsentFilesError(
      options.lockFile,
      files,
      `their layer ${descriptor.digest} is not in the registry (${where}). ` +
        `Run \`nx run ${options.project}:asset-push\` where the files are, or get them into the folder (\`git lfs pull\`, a copy).`,
      { cause: error },
    );
  }
  const reason = error instanceof Error ? error.message : String(error);
  return new AssetAbsentFilesError(
    options.lockFile,
    files,
    `their bytes are needed (layer ${descriptor.digest}) and could not be fetched from ${where}: ${reason}`,
    { cause: error },
  );
}
