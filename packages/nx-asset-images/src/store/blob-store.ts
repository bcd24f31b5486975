/**
 * The blobs of an OCI image layout, `<dir>/blobs/sha256/<hex>`: the one place
 * that writes them (temp file, digest and size verified while writing, then
 * rename; skipped when a file of the right size is there) and reads them back
 * verified. Used by the layout writer and the registry pull alike.
 */
import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import type { Readable } from 'node:stream';
import { DigestingPassThrough, digestHex, isDigest, sha256Digest } from '../oci/digest';
import type { Descriptor, Digest } from '../oci/image';
import { progressStages } from '../util/progress-tap';
import type { OnProgress } from '../util/progress';
import { tempPathFor, writeStreamAtomic } from '../util/atomic-write';
import { BlobDigestMismatchError, OciLayoutError } from './layout-errors';

/** A blob's path inside a layout (or a layout-shaped archive), `/`-separated: `blobs/sha256/<hex>`. */
export function blobRelativePath(digest: Digest): string {
  return posix.join('blobs', 'sha256', digestHex(digest));
}

/** Path of a blob in the layout at `dir`. */
export function blobPath(dir: string, digest: Digest): string {
  return join(dir, blobRelativePath(digest));
}

export interface WriteBlobOptions {
  /** Progress labelled with the blob's digest. */
  onProgress?: OnProgress;
}

/**
 * Writes one blob unless a file of the right size is already there. The bytes
 * of `open()` go to a temp file beside the target while being hashed; a digest
 * or size mismatch deletes the temp file and throws `BlobDigestMismatchError`
 * (a failing stream's own error wins).
 */
export async function writeBlob(
  dir: string,
  descriptor: Descriptor,
  open: () => Readable | Promise<Readable>,
  options: WriteBlobOptions = {},
): Promise<'written' | 'skipped'> {
  const target = blobPath(dir, descriptor.digest);
  if (await hasBlob(dir, descriptor)) return 'skipped';
  const hasher = new DigestingPassThrough();
  await writeStreamAtomic(target, await open(), {
    through: [hasher, ...progressStages({ label: descriptor.digest, total: descriptor.size, onProgress: options.onProgress })],
    check: () => {
      const actual = hasher.digest();
      if (actual !== descriptor.digest || hasher.size !== descriptor.size) {
        throw new BlobDigestMismatchError(descriptor.digest, actual, hasher.size, descriptor.size);
      }
    },
  });
  return 'written';
}

/**
 * Keeps a blob in the store while its bytes go on to a consumer: each chunk
 * is written to a temp file beside the blob's path, then passed on; when the
 * source ends with exactly the descriptor's size the temp file is renamed
 * into place. Nothing is read back (a fetch that feeds `docker load` need
 * not wait for the whole blob on disk first). The source must verify its own
 * digest, failing before it releases its last bytes (the registry client's
 * verified stream does); a failure, or a consumer that stops early, leaves
 * nothing behind.
 */
export async function* writeBlobThrough(dir: string, descriptor: Descriptor, verified: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const target = blobPath(dir, descriptor.digest);
  await mkdir(dirname(target), { recursive: true });
  const temp = tempPathFor(target);
  const file = await open(temp, 'wx');
  let kept = false;
  // Chunks are written in batches of WRITE_BATCH_BYTES, one batch in flight while the next chunks go on to the
  // consumer: an awaited write per 64 KiB chunk made a 1 GiB fetch wait for 16,000 disk round trips in turn.
  let writing: Promise<void> = Promise.resolve();
  let batch: Buffer[] = [];
  let batchBytes = 0;
  const flush = async () => {
    await writing;
    if (batchBytes === 0) return;
    const buffers = batch;
    batch = [];
    batchBytes = 0;
    writing = writeAll(file, buffers);
    writing.catch(() => {}); // observed by the next flush, or the final one
  };
  try {
    let size = 0;
    for await (const chunk of verified) {
      batch.push(chunk);
      batchBytes += chunk.length;
      size += chunk.length;
      if (batchBytes >= WRITE_BATCH_BYTES) await flush();
      yield chunk;
    }
    if (size !== descriptor.size) throw new BlobDigestMismatchError(descriptor.digest, descriptor.digest, size, descriptor.size);
    await flush();
    await writing;
    await file.close();
    await rename(temp, target);
    kept = true;
  } finally {
    if (!kept) {
      await writing.catch(() => undefined);
      await file.close().catch(() => undefined);
      await rm(temp, { force: true });
    }
  }
}

/** Bytes gathered before one write of a blob kept while it flows. */
const WRITE_BATCH_BYTES = 1024 * 1024;

/** Writes `buffers` in order at the file's position, short writes continued. */
async function writeAll(file: FileHandle, buffers: Buffer[]): Promise<void> {
  let pending = buffers;
  while (pending.length > 0) {
    let written = (await file.writev(pending)).bytesWritten;
    while (pending.length > 0 && written >= pending[0]!.length) {
      written -= pending[0]!.length;
      pending = pending.slice(1);
    }
    if (written > 0) pending = [pending[0]!.subarray(written), ...pending.slice(1)];
  }
}

/** True when the layout holds a file of the descriptor's size for its digest (the write path verified it). */
export async function hasBlob(dir: string, descriptor: Descriptor): Promise<boolean> {
  const present = await stat(blobPath(dir, descriptor.digest)).catch(() => undefined);
  return present?.isFile() === true && present.size === descriptor.size;
}

/** Reads a (small) blob whole and checks it against its descriptor. */
export async function readVerifiedBlob(dir: string, descriptor: Descriptor): Promise<Buffer> {
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

/** A stream of a blob's file (verified when it was written). */
export function openBlob(dir: string, digest: Digest): Readable {
  return createReadStream(blobPath(dir, digest));
}
