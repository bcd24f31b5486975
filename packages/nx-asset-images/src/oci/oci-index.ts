import type { Descriptor, Digest } from './image';
import { MEDIA_TYPE_OCI_INDEX } from './media-types';

export const ANNOTATION_REF_NAME = 'org.opencontainers.image.ref.name';
export const ANNOTATION_CONTAINERD_IMAGE_NAME = 'io.containerd.image.name';

/** An OCI image index (application/vnd.oci.image.index.v1+json), as in an image layout's `index.json`. */
export interface OciIndex {
  schemaVersion: 2;
  mediaType: typeof MEDIA_TYPE_OCI_INDEX;
  manifests: Descriptor[];
  annotations?: Record<string, string>;
}

export function createOciIndex(manifests: readonly Descriptor[] = []): OciIndex {
  return { schemaVersion: 2, mediaType: MEDIA_TYPE_OCI_INDEX, manifests: manifests.map((d) => ({ ...d })) };
}

/** One index entry per ref name (`org.opencontainers.image.ref.name`), or a single unnamed entry when `refNames` is empty. */
export function indexEntriesFor(
  manifest: Descriptor,
  refNames: readonly string[],
  extra: (refName: string) => Record<string, string> = () => ({}),
): Descriptor[] {
  const base: Descriptor = { mediaType: manifest.mediaType, digest: manifest.digest, size: manifest.size };
  if (manifest.platform) base.platform = { ...manifest.platform };
  if (refNames.length === 0) return [base];
  return [...new Set(refNames)].map((refName) => ({
    ...base,
    annotations: { ...extra(refName), [ANNOTATION_REF_NAME]: refName },
  }));
}

export function refNameOf(descriptor: Descriptor): string | undefined {
  return descriptor.annotations?.[ANNOTATION_REF_NAME];
}

/**
 * Adds `entries` to `existing`: an existing entry with the same ref name as a
 * new one is replaced; an unnamed new entry replaces an unnamed entry with the
 * same digest. Other entries are kept, in order.
 */
export function mergeIndex(existing: OciIndex | undefined, entries: readonly Descriptor[]): OciIndex {
  const base = existing ?? createOciIndex();
  const newNames = new Set(entries.map(refNameOf).filter((n): n is string => n !== undefined));
  const newUnnamed = new Set<Digest>(entries.filter((e) => refNameOf(e) === undefined).map((e) => e.digest));
  const kept = base.manifests.filter((entry) => {
    const name = refNameOf(entry);
    return name === undefined ? !newUnnamed.has(entry.digest) : !newNames.has(name);
  });
  return { ...base, schemaVersion: 2, mediaType: MEDIA_TYPE_OCI_INDEX, manifests: [...kept, ...entries.map((e) => ({ ...e }))] };
}

/** Finds the entry whose ref name or digest is `refOrDigest`. */
export function findIndexEntry(index: OciIndex, refOrDigest: string): Descriptor | undefined {
  return index.manifests.find((entry) => refNameOf(entry) === refOrDigest) ?? index.manifests.find((entry) => entry.digest === refOrDigest);
}
