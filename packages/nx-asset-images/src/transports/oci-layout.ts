import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { canonicalJson } from '../oci/canonical-json';
import { DigestingPassThrough, digestHex, isDigest, sha256Digest } from '../oci/digest';
import type { BytesBlob, Descriptor, Digest, Image, Layer } from '../oci/image';
import type { ImageConfig } from '../oci/image-config';
import type { OciManifest } from '../oci/manifest';
import { MEDIA_TYPE_DOCKER_MANIFEST, MEDIA_TYPE_OCI_MANIFEST } from '../oci/media-types';
import { findIndexEntry, indexEntriesFor, mergeIndex, refNameOf, type OciIndex } from '../oci/oci-index';
import { tempPathFor, writeFileAtomic } from '../util/atomic-write';
import { withFileLock } from '../util/file-lock';
import { runWithConcurrency } from '../util/concurrency';
import type { OnProgress } from '../util/progress';
import { BlobDigestMismatchError, OciLayoutError, OciLayoutRefNotFoundError } from './oci-layout-errors';

export { BlobDigestMismatchError, OciLayoutError, OciLayoutRefNotFoundError } from './oci-layout-errors';

const LAYOUT_WRITE_CONCURRENCY = 2;

export const OCI_LAYOUT_FILE_CONTENT = '{"imageLayoutVersion":"1.0.0"}';

export interface WriteOciLayoutOptions {
  /** Tags the image gets in `index.json` (`org.opencontainers.image.ref.name`); entries with these names are replaced. Empty: one unnamed entry. */
  refNames: readonly string[];
  onProgress?: OnProgress;
}

export interface WriteOciLayoutResult {
  manifestDigest: Digest;
  /** Blobs written by this call. */
  written: Digest[];
  /** Blobs already present with the right size. */
  skipped: Digest[];
}

/** Path of a blob in a layout. */
export function blobPath(dir: string, digest: Digest): string {
  return join(dir, 'blobs', 'sha256', digestHex(digest));
}

/**
 * Writes `image` into the OCI image layout at `dir` (created if needed):
 * `oci-layout`, the blobs (layers, config, manifest; each through a temp file
 * verified against its digest, then renamed), and `index.json` last,
 * atomically, merged with the entries already there.
 */
export async function writeOciLayout(dir: string, image: Image, options: WriteOciLayoutOptions): Promise<WriteOciLayoutResult> {
  await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
  await ensureLayoutFile(dir);
  const result: WriteOciLayoutResult = { manifestDigest: image.manifest.descriptor.digest, written: [], skipped: [] };
  const done = new Set<Digest>();
  const blobs: { descriptor: Descriptor; open: () => Readable }[] = [
    ...image.layers.map((layer: Layer) => ({ descriptor: layer.descriptor, open: () => layer.open() })),
    bytesSource(image.config),
    bytesSource(image.manifest),
  ].filter((blob) => !done.has(blob.descriptor.digest) && done.add(blob.descriptor.digest));
  // Layers two at a time (each is a read, a sha256 and a write: CPU-bound on this kind of machine),
  // then config and manifest; outcomes reported in blob order.
  const layerCount = blobs.length - 2;
  const outcomes: ('written' | 'skipped')[] = [];
  await runWithConcurrency([...blobs.slice(0, layerCount).keys()], LAYOUT_WRITE_CONCURRENCY, async (i) => {
    outcomes[i] = await writeBlob(dir, blobs[i]!.descriptor, blobs[i]!.open, options.onProgress);
  });
  for (let i = layerCount; i < blobs.length; i++) outcomes[i] = await writeBlob(dir, blobs[i]!.descriptor, blobs[i]!.open, options.onProgress);
  blobs.forEach((blob, i) => result[outcomes[i]!].push(blob.descriptor.digest));
  await addIndexEntries(dir, image.manifest.descriptor, options.refNames);
  return result;
}

/**
 * Merges entries for `manifest` (one per ref name, or one unnamed entry) into
 * the layout's `index.json`, under the same cross-process lock as every other
 * writer, so parallel builds and pulls sharing one layout keep every entry.
 * The manifest blob itself must already be in the layout.
 */
export async function addIndexEntries(dir: string, manifest: Descriptor, refNames: readonly string[]): Promise<void> {
  await withFileLock(join(dir, 'index.json.lock'), async () => {
    const existing = await readIndex(dir);
    const index = mergeIndex(existing, indexEntriesFor(manifest, refNames));
    await writeFileAtomic(join(dir, 'index.json'), canonicalJson(index));
  });
}

function bytesSource(blob: BytesBlob): { descriptor: Descriptor; open: () => Readable } {
  return {
    descriptor: blob.descriptor,
    open: () => Readable.from([blob.bytes], { objectMode: false }),
  };
}

async function ensureLayoutFile(dir: string): Promise<void> {
  const file = join(dir, 'oci-layout');
  try {
    const content = JSON.parse(await readFile(file, 'utf8')) as { imageLayoutVersion?: unknown };
    if (content.imageLayoutVersion !== '1.0.0') throw new OciLayoutError(`unsupported imageLayoutVersion ${JSON.stringify(content.imageLayoutVersion)}`, dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      if (error instanceof OciLayoutError) throw error;
      throw new OciLayoutError('unreadable oci-layout file', dir, { cause: error });
    }
    await writeFileAtomic(file, OCI_LAYOUT_FILE_CONTENT);
  }
}

/** Reports progress at most every 8 MiB, and at the end. */
class ProgressCounter extends Transform {
  private bytes = 0;
  private reported = 0;
  constructor(private readonly label: string, private readonly total: number, private readonly onProgress: OnProgress) {
    super();
  }
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes - this.reported >= 8 * 1024 * 1024) {
      this.reported = this.bytes;
      this.onProgress({ label: this.label, bytes: this.bytes, total: this.total });
    }
    callback(null, chunk);
  }
  override _flush(callback: TransformCallback): void {
    this.onProgress({ label: this.label, bytes: this.bytes, total: this.total });
    callback();
  }
}

/**
 * Writes one blob unless a file of the right size is already there. The
 * bytes go to a temp file beside the target while being hashed; a digest or
 * size mismatch deletes the temp file and throws `BlobDigestMismatchError`.
 */
export async function writeBlob(dir: string, descriptor: Descriptor, open: () => Readable, onProgress?: OnProgress): Promise<'written' | 'skipped'> {
  const target = blobPath(dir, descriptor.digest);
  const present = await stat(target).catch(() => undefined);
  if (present?.isFile() && present.size === descriptor.size) return 'skipped';
  const temp = tempPathFor(target);
  const hasher = new DigestingPassThrough();
  try {
    const stages: NodeJS.ReadWriteStream[] = [hasher];
    if (onProgress) stages.push(new ProgressCounter(descriptor.digest, descriptor.size, onProgress));
    await pipeline([open(), ...stages, createWriteStream(temp, { flags: 'wx' })] as unknown as Parameters<typeof pipeline>[0][]);
    const actual = hasher.digest();
    if (actual !== descriptor.digest || hasher.size !== descriptor.size) {
      throw new BlobDigestMismatchError(descriptor.digest, actual, hasher.size, descriptor.size);
    }
    await rename(temp, target);
    return 'written';
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

async function readIndex(dir: string): Promise<OciIndex | undefined> {
  let text: string;
  try {
    text = await readFile(join(dir, 'index.json'), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new OciLayoutError('unreadable index.json', dir, { cause: error });
  }
  try {
    const index = JSON.parse(text) as OciIndex;
    if (!Array.isArray(index.manifests)) throw new Error('no "manifests" array');
    return index;
  } catch (error) {
    throw new OciLayoutError(`index.json is not a valid OCI index: ${(error as Error).message}`, dir, { cause: error });
  }
}

async function readVerifiedBlob(dir: string, descriptor: Descriptor): Promise<Buffer> {
  if (!isDigest(descriptor.digest)) throw new OciLayoutError(`invalid digest ${JSON.stringify(descriptor.digest)}`, dir);
  let bytes: Buffer;
  try {
    bytes = await readFile(blobPath(dir, descriptor.digest));
  } catch (error) {
    throw new OciLayoutError(`missing blob ${descriptor.digest}`, dir, { cause: error });
  }
  const actual = sha256Digest(bytes);
  if (actual !== descriptor.digest || bytes.length !== descriptor.size) {
    throw new BlobDigestMismatchError(descriptor.digest, actual, bytes.length, descriptor.size);
  }
  return bytes;
}

/**
 * Reads the image named `refOrDigest` (a ref name in `index.json` or a
 * manifest digest) from the layout at `dir`. Manifest and config are read and
 * verified; layers' `open()` stream the blob files.
 */
export async function readOciLayoutImage(dir: string, refOrDigest: string): Promise<Image> {
  const index = await readIndex(dir);
  if (!index) throw new OciLayoutError('no index.json', dir);
  const entry = findIndexEntry(index, refOrDigest);
  if (!entry) {
    throw new OciLayoutRefNotFoundError(dir, refOrDigest, index.manifests.map((m) => refNameOf(m) ?? m.digest));
  }
  if (entry.mediaType !== MEDIA_TYPE_OCI_MANIFEST && entry.mediaType !== MEDIA_TYPE_DOCKER_MANIFEST) {
    throw new OciLayoutError(`${refOrDigest} is a ${entry.mediaType}, not an image manifest`, dir);
  }
  const manifestBytes = await readVerifiedBlob(dir, entry);
  const manifest = JSON.parse(manifestBytes.toString('utf8')) as OciManifest;
  const configBytes = await readVerifiedBlob(dir, manifest.config);
  const config = JSON.parse(configBytes.toString('utf8')) as ImageConfig;
  const diffIds = config.rootfs?.diff_ids ?? [];
  if (diffIds.length !== manifest.layers.length) {
    throw new OciLayoutError(`${refOrDigest}: ${manifest.layers.length} layers but ${diffIds.length} diff_ids in the config`, dir);
  }
  return {
    manifest: { descriptor: { mediaType: entry.mediaType, digest: entry.digest, size: entry.size }, bytes: manifestBytes },
    config: { descriptor: manifest.config, bytes: configBytes },
    layers: manifest.layers.map((descriptor, i) => ({
      descriptor,
      diffId: diffIds[i]!,
      open: () => createReadStream(blobPath(dir, descriptor.digest)),
    })),
  };
}
