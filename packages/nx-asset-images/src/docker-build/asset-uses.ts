/**
 * Which asset images a Dockerfile uses, and the exact reference each use needs
 * in Docker. Pure: the parsed Dockerfile, the workspace's asset map and the
 * assets' build results in, decisions out.
 */
import type { AssetImageResult } from '../asset/asset-image-result';
import { contentTagFor } from '../asset/image-references';
import type { Digest } from '../oci/image';
import type { ParsedDockerfile } from '../dockerfile/parsed-dockerfile';
import { findImageReferences } from '../dockerfile/find-image-references';
import { familiarImageReference, repositoryKey, withTag, type ImageReference } from '../oci/image-reference';
import type { AssetProject, AssetProjectMap } from '../asset/asset-project';

export interface AssetUse {
  asset: AssetProject;
  /** The reference after ARG/--build-arg substitution, as written (`localhost:5000/asset/bert:0.1`). */
  resolved: string;
  reference: ImageReference;
  line: number;
}

/** Every image reference of `parsed` whose repository is an asset project's image (not the app's own folder). */
export function findAssetUses(parsed: ParsedDockerfile, assets: AssetProjectMap, projectRoot?: string): AssetUse[] {
  const uses: AssetUse[] = [];
  for (const ref of findImageReferences(parsed)) {
    const asset = assets.get(repositoryKey(ref.reference));
    if (!asset || asset.root === projectRoot) continue;
    uses.push({ asset, resolved: ref.resolved, reference: ref.reference, line: ref.line });
  }
  return uses;
}

export class AssetTagMismatchError extends Error {
  override readonly name = 'AssetTagMismatchError';
  constructor(
    readonly dockerfile: string,
    readonly line: number,
    readonly written: string,
    readonly project: string,
    readonly tags: readonly string[],
    reason: string,
  ) {
    super(`${dockerfile}:${line}: ${written} ${reason}; the asset "${project}" was built with tags: ${tags.join(', ')}`);
  }
}

/** A digest pin whose build neither the layout store nor the registry holds, or that docker-build cannot rewrite. */
export class DigestPinError extends Error {
  override readonly name = 'DigestPinError';
  constructor(
    readonly dockerfile: string,
    readonly line: number,
    readonly written: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${dockerfile}:${line}: ${written} ${message}`, options);
  }
}

/** A use that pins a digest: Docker gets the build under its content tag, and the Dockerfile the app is built from says so. */
export interface DigestPin {
  use: AssetUse;
  digest: Digest;
  /** The reference Docker holds the pinned build under (`<repo>:sha256-<20 hex>`), written in the Dockerfile instead. */
  dockerReference: string;
  /** The asset's current build, or another one (found in the store or the registry). */
  current: boolean;
}

/**
 * The Docker reference (familiar form, with tag) that must name exactly the
 * asset's build for a use by tag. A tag the build does not carry (an old
 * version) is an `AssetTagMismatchError`. A use that pins a digest is a
 * `DigestPin` (see `digestPinOf`).
 */
export function requiredReference(use: AssetUse, result: AssetImageResult, dockerfile: string): string {
  if (use.reference.digest !== undefined) return digestPinOf(use, result).dockerReference;
  const tag = use.reference.tag ?? 'latest';
  if (!result.tags.includes(tag)) {
    throw new AssetTagMismatchError(
      dockerfile,
      use.line,
      use.resolved,
      use.asset.projectName,
      result.tags,
      `uses tag "${tag}", which is not one of the asset's tags (add it to asset.json and rebuild, or use one of them)`,
    );
  }
  return familiarImageReference(withTag({ registry: use.reference.registry, repository: use.reference.repository }, tag));
}

/** Docker cannot look a loaded image up by manifest digest: a pinned build goes in under its content tag. */
export function digestPinOf(use: AssetUse, result: AssetImageResult): DigestPin {
  const digest = use.reference.digest!;
  const repository = { registry: use.reference.registry, repository: use.reference.repository };
  return {
    use,
    digest,
    dockerReference: familiarImageReference(withTag(repository, contentTagFor(digest))),
    current: digest === result.manifestDigest,
  };
}

/**
 * The references each used asset project needs in Docker at its current
 * build (project name -> distinct references, in Dockerfile order), and the
 * uses that pin a digest.
 */
export function requiredReferencesByAsset(
  uses: readonly AssetUse[],
  results: ReadonlyMap<string, AssetImageResult>,
  dockerfile: string,
): Map<string, string[]> {
  const byAsset = new Map<string, string[]>();
  for (const use of uses) {
    const result = results.get(use.asset.projectName);
    if (!result) throw new Error(`${dockerfile}:${use.line}: no build result for asset "${use.asset.projectName}"`);
    // A pin of another build is not the current build's business: see pinsOf.
    if (use.reference.digest !== undefined && !digestPinOf(use, result).current) continue;
    const ref = requiredReference(use, result, dockerfile);
    const list = byAsset.get(use.asset.projectName) ?? [];
    if (!list.includes(ref)) list.push(ref);
    byAsset.set(use.asset.projectName, list);
  }
  return byAsset;
}

/** The uses that pin a digest, one per distinct written reference. */
export function digestPinsOf(uses: readonly AssetUse[], results: ReadonlyMap<string, AssetImageResult>): DigestPin[] {
  const pins: DigestPin[] = [];
  for (const use of uses) {
    const result = results.get(use.asset.projectName);
    if (!result || use.reference.digest === undefined || pins.some((p) => p.use.resolved === use.resolved)) continue;
    pins.push(digestPinOf(use, result));
  }
  return pins;
}
