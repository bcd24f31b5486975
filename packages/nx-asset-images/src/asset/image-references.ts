import type { Digest } from '../oci/image';
import { familiarImageReference, parseImageReference, withTag, type ImageReference } from '../oci/image-reference';

export interface AssetReferences {
  repository: ImageReference;
  /** The manifest's tags plus the content tag, deduplicated, in that order. */
  tags: string[];
  contentTag: string;
  /** `repository:tag` for each tag, in the familiar form Docker prints (`asset/bert:0.1`, `localhost:5000/asset/bert:0.1`). */
  references: string[];
}

/** The tag that names exactly this content: `sha256-` and the first 20 hex digits of the manifest digest. */
export function contentTagFor(manifestDigest: Digest): string {
  return `sha256-${manifestDigest.slice('sha256:'.length, 'sha256:'.length + 20)}`;
}

export function assetReferences(image: string, tags: readonly string[], manifestDigest: Digest): AssetReferences {
  const parsed = parseImageReference(image);
  const repository: ImageReference = { registry: parsed.registry, repository: parsed.repository };
  const contentTag = contentTagFor(manifestDigest);
  const allTags = [...new Set([...tags, contentTag])];
  return {
    repository,
    tags: allTags,
    contentTag,
    references: allTags.map((tag) => familiarImageReference(withTag(repository, tag))),
  };
}
