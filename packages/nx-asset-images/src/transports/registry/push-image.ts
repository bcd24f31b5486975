/**
 * Pushes an `Image` to a registry, without a Docker daemon:
 * 1. every blob (config and layers), a few at a time: present (HEAD) ->
 *    skipped; mountable from another repository of the registry -> mounted;
 *    otherwise uploaded (monolithic or chunked, resumed on retry);
 * 2. only when every blob the manifest references is confirmed present, the
 *    manifest, once per tag. A failed push never moves a tag.
 */
import { Readable } from 'node:stream';
import { verifyBytes } from '../../oci/digest';
import type { BytesBlob, Digest, Image } from '../../oci/image';
import type { ImageIndex } from '../../oci/image-index';
import { formatImageReference, type ImageReference } from '../../oci/image-reference';
import type { OnProgress } from '../../util/progress';
import { blobExists } from './blob-exists';
import { mountBlob } from './blob-mount';
import { uploadBlob, type BlobSource } from './blob-upload';
import { putManifest } from './manifest-put';
import { RegistrySession } from './registry-session';
import { ForeignCredentialsError, type RegistryCredentials, type ResolvedCredentials } from './credentials';
import { resolveDockerCredentials, type DockerConfigOptions } from './docker-config';
import type { RetryOptions } from './retry';
import { runWithConcurrency } from '../../util/concurrency';
import { cancelUpload } from './upload-session';
import { insecureRegistriesFromEnv } from './registry-url';
import { ImmutableTagError, tagDecisions, tagDigest, type TagMove, type TagPolicy } from './tag-guard';

export interface RegistryClientOptions {
  /**
   * Explicit credentials, or those already read for this registry (`resolveRegistryCredentials`; none there means
   * anonymous, and nothing is read again); when absent they come from Docker's config.json (and its credential helpers).
   */
  credentials?: RegistryCredentials | ResolvedCredentials;
  /** Where to look for config.json and which environment helpers run with. */
  dockerConfig?: DockerConfigOptions;
  /** Hosts reached over plain HTTP (loopback hosts always are). */
  insecureRegistries?: string[];
  retry?: Partial<RetryOptions>;
  signal?: AbortSignal;
  /** Idle socket timeout per request, ms. */
  timeoutMs?: number;
}

export interface PushOptions extends RegistryClientOptions {
  /** Blobs in flight at once (default 3). */
  concurrency?: number;
  /** Upload in PATCH chunks of this size instead of one PUT body per blob. */
  chunkSize?: number;
  onProgress?: OnProgress;
  /** Other repositories of the same registry to try a cross-repository mount from. */
  mountFrom?: string[];
  /**
   * Version tags never move: before anything is written, every tag is read;
   * one that names other content and is not `mutable` fails the push
   * (`ImmutableTagError`) unless `force`. Without a policy, tags are written as given.
   */
  tagPolicy?: TagPolicy;
  /** Told about each failed blob-upload attempt that will be retried (for logs; the error is already redacted). */
  onRetry?: (event: { digest: Digest; attempt: number; error: unknown }) => void;
}

export interface PushResult {
  manifestDigest: Digest;
  /** The references that now point at the manifest. */
  pushed: string[];
  uploaded: Digest[];
  skipped: Digest[];
  mounted: Digest[];
  /** Tags that named other content before and name this image now (mutable ones, or forced). */
  moved: TagMove[];
}

export class PushRequestError extends Error {
  override readonly name = 'PushRequestError';
}

export async function openRegistrySession(
  registry: string,
  options: RegistryClientOptions & { maxSockets?: number },
): Promise<RegistrySession> {
  const credentials = await sessionCredentials(registry, options);
  // Every client (push, pull, the build's and asset-pull's fetches by digest) honours NX_ASSET_IMAGES_INSECURE_REGISTRIES.
  const insecureRegistries = [...(options.insecureRegistries ?? []), ...insecureRegistriesFromEnv()];
  return new RegistrySession({
    registry,
    ...(credentials ? { credentials } : {}),
    ...(insecureRegistries.length > 0 ? { insecureRegistries } : {}),
    ...(options.retry ? { retry: options.retry } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
    ...(options.maxSockets ? { maxSockets: options.maxSockets } : {}),
  });
}

/** The credentials a session of `registry` gets: read from Docker's config unless given; those read for another registry are refused. */
async function sessionCredentials(registry: string, options: RegistryClientOptions): Promise<RegistryCredentials | undefined> {
  const given = options.credentials;
  if (given === undefined) return resolveDockerCredentials(registry, options.dockerConfig ?? {});
  if (!('registry' in given)) return given;
  if (given.registry !== registry) throw new ForeignCredentialsError(given.registry, registry);
  return given.credentials;
}

/** The digests a manifest (or index) references: config and layers (or child manifests). */
export function referencedDigests(manifestBytes: Buffer): Digest[] {
  const parsed = JSON.parse(manifestBytes.toString('utf8')) as {
    config?: { digest: Digest };
    layers?: Array<{ digest: Digest }>;
    manifests?: Array<{ digest: Digest }>;
  };
  return [
    ...(parsed.config ? [parsed.config.digest] : []),
    ...(parsed.layers ?? []).map((l) => l.digest),
    ...(parsed.manifests ?? []).map((m) => m.digest),
  ];
}

/** What a push writes: blobs (configs, layers), then manifests by digest (an index's platform manifests), then `top` under each tag. */
interface PushSubject {
  top: BytesBlob;
  children: readonly BytesBlob[];
  blobs: Map<Digest, BlobSource>;
}

function subjectOf(image: Image | ImageIndex): PushSubject {
  const images = 'index' in image ? image.images.map((entry) => entry.image) : [image];
  const blobs = new Map<Digest, BlobSource>();
  for (const one of images) {
    verifyBytes(one.manifest.bytes, one.manifest.descriptor.digest, { what: 'manifest' });
    verifyBytes(one.config.bytes, one.config.descriptor.digest, { what: 'config' });
    const config = one.config;
    if (!blobs.has(config.descriptor.digest))
      blobs.set(config.descriptor.digest, { descriptor: config.descriptor, open: () => Readable.from([config.bytes]) });
    for (const layer of one.layers) if (!blobs.has(layer.descriptor.digest)) blobs.set(layer.descriptor.digest, layer);
  }
  if (!('index' in image)) return { top: image.manifest, children: [], blobs };
  verifyBytes(image.index.bytes, image.index.descriptor.digest, { what: 'index' });
  return { top: image.index, children: images.map((one) => one.manifest), blobs };
}

/**
 * Pushes an image, or a multi-platform index with every platform's manifest
 * (layers once, they are shared), under `refs`. The index's digest is the
 * asset's; its tags are written last.
 */
export async function pushImage(image: Image | ImageIndex, refs: ImageReference[], options: PushOptions = {}): Promise<PushResult> {
  const first = refs[0];
  if (!first) throw new PushRequestError('pushImage needs at least one reference');
  const subject = subjectOf(image);
  const manifestDigest = subject.top.descriptor.digest;
  for (const ref of refs) {
    if (ref.registry !== first.registry || ref.repository !== first.repository) {
      throw new PushRequestError(
        `all references of one push must name the same repository: ${formatImageReference(first)} vs ${formatImageReference(ref)}`,
      );
    }
    if (ref.digest !== undefined && ref.digest !== manifestDigest) {
      throw new PushRequestError(`${formatImageReference(ref)} does not name this image's manifest ${manifestDigest}`);
    }
  }

  const concurrency = Math.max(1, options.concurrency ?? 3);
  const session = await openRegistrySession(first.registry, { ...options, maxSockets: concurrency + 2 });
  const repository = first.repository;
  const mountFrom = (options.mountFrom ?? []).filter((r) => r !== repository);
  const result: PushResult = { manifestDigest, pushed: [], uploaded: [], skipped: [], mounted: [], moved: [] };
  const blobs = subject.blobs;

  try {
    if (options.tagPolicy) {
      // Before any byte moves: a tag that would change meaning stops the push here.
      const tags = [...new Set(refs.flatMap((r) => (r.tag !== undefined ? [r.tag] : [])))];
      const current = new Map<string, Digest | undefined>();
      for (const tag of tags) current.set(tag, await tagDigest(session, repository, tag));
      const { conflicts, moves } = tagDecisions(current, manifestDigest, options.tagPolicy);
      if (conflicts.length > 0) throw new ImmutableTagError(first.registry, repository, manifestDigest, conflicts);
      result.moved = moves;
    }
    await runWithConcurrency([...blobs.values()], concurrency, async (blob) => {
      const outcome = await ensureBlob(session, repository, blob, mountFrom, options);
      result[outcome].push(blob.descriptor.digest);
    });

    // Every blob a manifest names must be confirmed present before any manifest goes up, and any tag moves.
    const confirmed = new Set<Digest>(blobs.keys());
    const manifests = subject.children.length > 0 ? subject.children : [subject.top];
    for (const manifest of manifests) {
      for (const digest of referencedDigests(manifest.bytes)) {
        if (confirmed.has(digest)) continue;
        if (!(await blobExists(session, repository, digest, 'pull,push'))) {
          throw new PushRequestError(
            `manifest ${manifest.descriptor.digest} references ${digest}, which is neither in the image nor in ${first.registry}/${repository}`,
          );
        }
        confirmed.add(digest);
      }
    }
    // An index's platform manifests, by digest, before the index that names them.
    for (const child of subject.children) await putManifest(session, repository, child.descriptor.digest, child);

    const targets = refs.map((r) => r.tag ?? r.digest!);
    for (const target of [...new Set(targets)]) {
      await putManifest(session, repository, target, subject.top);
    }
    result.pushed = refs.map((r) => formatImageReference(r));
    return result;
  } finally {
    session.close();
  }
}

async function ensureBlob(
  session: RegistrySession,
  repository: string,
  blob: BlobSource,
  mountFrom: string[],
  options: PushOptions,
): Promise<'skipped' | 'mounted' | 'uploaded'> {
  const { digest, size } = blob.descriptor;
  if (await blobExists(session, repository, digest, 'pull,push')) {
    options.onProgress?.({ label: digest, bytes: size, total: size });
    return 'skipped';
  }
  let pendingSession: string | undefined;
  for (const from of mountFrom) {
    const mount = await mountBlob(session, repository, digest, from);
    if (mount.mounted) {
      options.onProgress?.({ label: digest, bytes: size, total: size });
      return 'mounted';
    }
    if (mount.location) {
      if (pendingSession) await cancelUpload(session, repository, pendingSession);
      pendingSession = mount.location;
    }
  }
  await uploadBlob(session, repository, blob, {
    ...(options.chunkSize !== undefined ? { chunkSize: options.chunkSize } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    ...(pendingSession ? { session: { location: pendingSession, offset: 0 } } : {}),
    ...(options.onRetry ? { onRetry: (error: unknown, attempt: number) => options.onRetry!({ digest, attempt, error }) } : {}),
  });
  return 'uploaded';
}
