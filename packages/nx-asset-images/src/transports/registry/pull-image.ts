/**
 * The consumer side: fetch an image's manifest, and its blobs by digest,
 * verified, into an OCI image layout (blobs via temp file + rename, then
 * index.json). Enough to get an asset image back when its bytes are not on
 * the machine.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Digest } from '../../oci/image';
import { formatImageReference, type ImageReference } from '../../oci/image-reference';
import { tempPathFor, writeFileAtomic } from '../../util/atomic-write';
import { addIndexEntries, OCI_LAYOUT_FILE_CONTENT } from '../oci-layout';
import { getBlobStream } from './blob-fetch';
import { getImageManifest, type PulledManifest } from './manifest-get';
import { openRegistrySession, type RegistryClientOptions } from './push-image';
import { runWithConcurrency } from '../../util/concurrency';
import { withRetry } from './retry';
import type { OnProgress } from '../../util/progress';

export type PullOptions = RegistryClientOptions;

export async function pullManifest(ref: ImageReference, options: PullOptions = {}): Promise<PulledManifest> {
  const session = await openRegistrySession(ref.registry, options);
  try {
    return await getImageManifest(session, ref);
  } finally {
    session.close();
  }
}

/**
 * A verified stream of one blob. The session closes when the stream ends or fails.
 * The stream errors (DigestMismatchError) instead of ending when the bytes are wrong.
 */
export async function fetchBlob(ref: ImageReference, digest: Digest, options: PullOptions & { size?: number } = {}): Promise<Readable> {
  const session = await openRegistrySession(ref.registry, options);
  try {
    const stream = await getBlobStream(session, ref.repository, digest, options.size);
    stream.once('close', () => session.close());
    return stream;
  } catch (error) {
    session.close();
    throw error;
  }
}

export interface PullToLayoutOptions extends PullOptions {
  concurrency?: number;
  onProgress?: OnProgress;
}

export interface PullToLayoutResult {
  manifestDigest: Digest;
  /** Blobs written (already present ones are not counted). */
  fetched: Digest[];
}

export function layoutBlobPath(layoutDir: string, digest: Digest): string {
  const [algorithm, hex] = digest.split(':') as [string, string];
  return join(layoutDir, 'blobs', algorithm, hex);
}

export async function pullImageToLayout(ref: ImageReference, layoutDir: string, options: PullToLayoutOptions = {}): Promise<PullToLayoutResult> {
  const session = await openRegistrySession(ref.registry, { ...options, maxSockets: (options.concurrency ?? 3) + 1 });
  try {
    const manifest = await getImageManifest(session, ref);
    const { config, layers = [] } = manifest.json;
    if (!config) throw new Error(`${formatImageReference(ref)}: ${manifest.mediaType} is not an image manifest`);
    const fetched: Digest[] = [];
    const wanted = [config, ...layers].filter((d, i, all) => all.findIndex((o) => o.digest === d.digest) === i);
    await runWithConcurrency(wanted, options.concurrency ?? 3, async (descriptor) => {
      const target = layoutBlobPath(layoutDir, descriptor.digest);
      const existing = await stat(target).catch(() => undefined);
      if (existing?.size === descriptor.size) return;
      // Retried here, the request with its body: so not again inside getBlobStream.
      await withRetry(async () => {
        const stream = await getBlobStream(session, ref.repository, descriptor.digest, descriptor.size, { retry: false });
        await writeStreamAtomic(target, stream, (bytes) => options.onProgress?.({ label: descriptor.digest, bytes, total: descriptor.size }));
      }, { ...session.retry, ...(options.signal ? { signal: options.signal } : {}) });
      fetched.push(descriptor.digest);
    });
    await writeFileAtomic(layoutBlobPath(layoutDir, manifest.digest), manifest.bytes);
    await writeFileAtomic(join(layoutDir, 'oci-layout'), OCI_LAYOUT_FILE_CONTENT);
    await addIndexEntries(layoutDir, { mediaType: manifest.mediaType, digest: manifest.digest, size: manifest.bytes.length }, ref.tag ? [ref.tag] : []);
    return { manifestDigest: manifest.digest, fetched };
  } finally {
    session.close();
  }
}

/** Writes a stream to a temp file beside `target` and renames it into place; on failure nothing is left behind. */
export async function writeStreamAtomic(target: string, stream: Readable, onBytes?: (bytes: number) => void): Promise<void> {
  await mkdir(join(target, '..'), { recursive: true });
  const tmp = tempPathFor(target);
  let bytes = 0;
  const count = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      onBytes?.((bytes += chunk.length));
      callback(null, chunk);
    },
  });
  try {
    await pipeline(stream, count, createWriteStream(tmp));
    await rename(tmp, target);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
}
