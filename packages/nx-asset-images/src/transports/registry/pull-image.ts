/**
 * The consumer side: fetch an image's manifest, and its blobs by digest,
 * verified, into an OCI image layout (blobs via temp file + rename, then
 * index.json). Enough to get an asset image back when its bytes are not on
 * the machine.
 */
import { Readable } from 'node:stream';
import type { Digest } from '../../oci/image';
import { formatImageReference, type ImageReference } from '../../oci/image-reference';
import { writeBlob } from '../../store/blob-store';
import { addIndexEntries, ensureLayoutFile } from '../../store/layout-files';
import { runWithConcurrency } from '../../util/concurrency';
import type { OnProgress } from '../../util/progress';
import { getBlobStream } from './blob-fetch';
import { getImageManifest, getManifest, type PulledManifest } from './manifest-get';
import { openRegistrySession, type RegistryClientOptions } from './push-image';

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
export async function fetchBlob(
  ref: ImageReference,
  digest: Digest,
  options: PullOptions & { size?: number; verifyDigest?: boolean } = {},
): Promise<Readable> {
  const session = await openRegistrySession(ref.registry, options);
  try {
    const stream = await getBlobStream(session, ref.repository, digest, options.size, {
      ...(options.verifyDigest === false ? { verifyDigest: false } : {}),
    });
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

export async function pullImageToLayout(
  ref: ImageReference,
  layoutDir: string,
  options: PullToLayoutOptions = {},
): Promise<PullToLayoutResult> {
  const session = await openRegistrySession(ref.registry, { ...options, maxSockets: (options.concurrency ?? 3) + 1 });
  try {
    const manifest = await getImageManifest(session, ref);
    const { config, layers = [] } = manifest.json;
    if (!config) throw new Error(`${formatImageReference(ref)}: ${manifest.mediaType} is not an image manifest`);
    const fetched: Digest[] = [];
    const wanted = [config, ...layers].filter((d, i, all) => all.findIndex((o) => o.digest === d.digest) === i);
    await ensureLayoutFile(layoutDir);
    await runWithConcurrency(wanted, options.concurrency ?? 3, async (descriptor) => {
      // getBlobStream retries the request and resumes a body that breaks off.
      const outcome = await writeBlob(
        layoutDir,
        descriptor,
        () => getBlobStream(session, ref.repository, descriptor.digest, descriptor.size),
        {
          ...(options.onProgress ? { onProgress: options.onProgress } : {}),
        },
      );
      if (outcome === 'written') fetched.push(descriptor.digest);
    });
    const manifestDescriptor = { mediaType: manifest.mediaType, digest: manifest.digest, size: manifest.bytes.length };
    await writeBlob(layoutDir, manifestDescriptor, () => Readable.from([manifest.bytes], { objectMode: false }));
    await addIndexEntries(layoutDir, manifestDescriptor, ref.tag ? [ref.tag] : []);
    return { manifestDigest: manifest.digest, fetched };
  } finally {
    session.close();
  }
}

/**
 * A multi-platform index and every platform's image into the layout (the
 * shared layers once): each child manifest by digest, then the index blob
 * and its index.json entry. A plain manifest is pulled as `pullImageToLayout` does.
 */
export async function pullIndexToLayout(
  ref: ImageReference,
  layoutDir: string,
  options: PullToLayoutOptions = {},
): Promise<PullToLayoutResult> {
  const session = await openRegistrySession(ref.registry, options);
  let index: PulledManifest;
  try {
    index = await getManifest(session, ref.repository, ref.digest ?? ref.tag ?? 'latest');
  } finally {
    session.close();
  }
  if (!index.json.manifests) return pullImageToLayout(ref, layoutDir, options);
  const fetched: Digest[] = [];
  for (const child of index.json.manifests) {
    const pulled = await pullImageToLayout(
      { registry: ref.registry, repository: ref.repository, digest: child.digest },
      layoutDir,
      options,
    );
    fetched.push(...pulled.fetched.filter((d) => !fetched.includes(d)));
  }
  const descriptor = { mediaType: index.mediaType, digest: index.digest, size: index.bytes.length };
  await writeBlob(layoutDir, descriptor, () => Readable.from([index.bytes], { objectMode: false }));
  await addIndexEntries(layoutDir, descriptor, ref.tag ? [ref.tag] : []);
  return { manifestDigest: index.digest, fetched };
}
