import { Readable } from 'node:stream';
import { canonicalJson } from '../oci/canonical-json';
import type { Descriptor, Image } from '../oci/image';
import { formatImageReference, parseImageReference, withTag } from '../oci/image-reference';
import { ANNOTATION_CONTAINERD_IMAGE_NAME, ANNOTATION_REF_NAME, createOciIndex } from '../oci/oci-index';
import type { TarFileEntry } from '../tar/tar-entries';
import { tarSize, tarStream } from '../tar/tar-stream';
import { blobRelativePath } from '../store/blob-store';
import { OCI_LAYOUT_FILE_CONTENT } from '../store/layout-files';

export class InvalidRepoTagError extends Error {
  override readonly name = 'InvalidRepoTagError';
  constructor(
    readonly repoTag: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`Cannot tag a loaded image ${JSON.stringify(repoTag)}: ${reason}`, options);
  }
}

/** Docker's `manifest.json` entry (the `docker save` format Docker 20.10 reads). */
export interface DockerArchiveManifestEntry {
  Config: string;
  RepoTags: string[];
  Layers: string[];
}

interface NormalizedTag {
  /** As given, with `:latest` added when it had no tag (Docker's RepoTags form). */
  repoTag: string;
  /** Fully qualified, e.g. `docker.io/library/bert:1` (what containerd stores). */
  fullName: string;
  tag: string;
}

function normalizeRepoTag(repoTag: string): NormalizedTag {
  let ref;
  try {
    ref = parseImageReference(repoTag);
  } catch (error) {
    throw new InvalidRepoTagError(repoTag, (error as Error).message, { cause: error });
  }
  if (ref.digest) throw new InvalidRepoTagError(repoTag, 'a loaded image is tagged, it cannot be named by digest');
  const tag = ref.tag ?? 'latest';
  const full = withTag(ref, tag);
  return { repoTag: ref.tag ? repoTag : `${repoTag}:latest`, fullName: formatImageReference(full), tag };
}

/** `repoTags` as Docker's manifest.json `RepoTags` (`:latest` added where no tag is given); InvalidRepoTagError for a digest or a bad name. */
export function dockerRepoTags(repoTags: readonly string[]): string[] {
  return repoTags.map((t) => normalizeRepoTag(t).repoTag);
}

const blobName = (descriptor: Descriptor) => blobRelativePath(descriptor.digest);

export interface DockerArchiveOptions {
  /**
   * How many bottom layers the engine already holds as a stack (their chain ids
   * exist): their blobs are left out. Only for Docker's classic image store,
   * whose loader opens a layer file only when its chain id is missing; the
   * containerd store needs every blob.
   */
  omitBottomLayers?: number;
}

/** The archive's entries: an OCI layout (oci-layout, index.json, blobs) plus Docker's manifest.json. */
export function dockerArchiveEntries(image: Image, repoTags: readonly string[], options: DockerArchiveOptions = {}): TarFileEntry[] {
  const tags = repoTags.map(normalizeRepoTag);
  const index = createOciIndex(
    tags.length === 0
      ? [image.manifest.descriptor]
      : tags.map((t) => ({
          mediaType: image.manifest.descriptor.mediaType,
          digest: image.manifest.descriptor.digest,
          size: image.manifest.descriptor.size,
          annotations: { [ANNOTATION_CONTAINERD_IMAGE_NAME]: t.fullName, [ANNOTATION_REF_NAME]: t.tag },
        })),
  );
  const manifestJson: DockerArchiveManifestEntry[] = [
    {
      Config: blobName(image.config.descriptor),
      RepoTags: tags.map((t) => t.repoTag),
      Layers: image.layers.map((l) => blobName(l.descriptor)),
    },
  ];
  const bytesEntry = (path: string, bytes: Buffer): TarFileEntry => ({
    path,
    mode: 0o644,
    size: bytes.length,
    open: () => Readable.from([bytes], { objectMode: false }),
  });

  const entries = new Map<string, TarFileEntry>();
  entries.set('oci-layout', bytesEntry('oci-layout', Buffer.from(OCI_LAYOUT_FILE_CONTENT)));
  entries.set('index.json', bytesEntry('index.json', canonicalJson(index)));
  entries.set('manifest.json', bytesEntry('manifest.json', Buffer.from(JSON.stringify(manifestJson))));
  for (const blob of [image.config, image.manifest])
    entries.set(blobName(blob.descriptor), bytesEntry(blobName(blob.descriptor), blob.bytes));
  const omit = options.omitBottomLayers ?? 0;
  image.layers.forEach((layer, i) => {
    const path = blobName(layer.descriptor);
    if (i >= omit && !entries.has(path)) entries.set(path, { path, mode: 0o644, size: layer.descriptor.size, open: () => layer.open() });
  });
  return [...entries.values()];
}

/**
 * A tar for `docker load` that Docker 20.10 (reads `manifest.json`) and
 * Docker 25+ (reads the OCI `index.json`) both accept. Layer blobs are
 * streamed from `layer.open()`, one after the other, never buffered whole.
 */
export function dockerArchiveStream(image: Image, repoTags: readonly string[], options: DockerArchiveOptions = {}): Readable {
  return tarStream(dockerArchiveEntries(image, repoTags, options));
}

/** Exact byte size of `dockerArchiveStream(image, repoTags)`. */
export function dockerArchiveSize(image: Image, repoTags: readonly string[], options: DockerArchiveOptions = {}): number {
  return tarSize(dockerArchiveEntries(image, repoTags, options));
}

/** How many bottom layers of `diffIds` the engine holds as a stack, given the diff_ids of images it has. */
export function heldBottomLayers(diffIds: readonly string[], engineImages: readonly (readonly string[])[]): number {
  let best = 0;
  for (const held of engineImages) {
    let n = 0;
    while (n < diffIds.length && n < held.length && held[n] === diffIds[n]) n++;
    best = Math.max(best, n);
  }
  return best;
}
