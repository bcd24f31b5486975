/**
 * Which asset images a Dockerfile uses, and the exact reference each use needs
 * in Docker. Pure: the parsed Dockerfile, the workspace's asset map and the
 * assets' build results in, decisions out.
 */
import type { AssetImageResult } from '../../build/asset-image-result';
import type { ParsedDockerfile } from '../../dockerfile/parsed-dockerfile';
import { findImageReferences } from '../../dockerfile/find-image-references';
import { familiarImageReference, repositoryKey, withTag, type ImageReference } from '../../oci/image-reference';
import type { AssetImage, AssetImageMap } from '../../nx/asset-images-in-workspace';

export interface AssetUse {
  asset: AssetImage;
  /** The reference after ARG/--build-arg substitution, as written (`localhost:5000/asset/bert:0.1`). */
  resolved: string;
  reference: ImageReference;
  line: number;
}

/** Every image reference of `parsed` whose repository is an asset project's image (not the app's own folder). */
export function findAssetUses(parsed: ParsedDockerfile, assets: AssetImageMap, projectRoot?: string): AssetUse[] {
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

/**
 * The Docker reference (familiar form, with tag) that must name exactly the
 * asset's build for this use. A tag the build does not carry (an old version)
 * or a digest reference is an `AssetTagMismatchError`.
 */
export function requiredReference(use: AssetUse, result: AssetImageResult, dockerfile: string): string {
  const fail = (reason: string): never => {
    throw new AssetTagMismatchError(dockerfile, use.line, use.resolved, use.asset.projectName, result.tags, reason);
  };
  if (use.reference.digest !== undefined) {
    fail(
      use.reference.digest === result.manifestDigest
        ? `pins the digest; Docker cannot find a loaded image by its manifest digest without pulling, use the content tag ${result.contentTag} instead`
        : `pins ${use.reference.digest}, which is not the asset's current build (${result.manifestDigest})`,
    );
  }
  const tag = use.reference.tag ?? 'latest';
  if (!result.tags.includes(tag))
    fail(`uses tag "${tag}", which is not one of the asset's tags (add it to asset.json and rebuild, or use one of them)`);
  return familiarImageReference(withTag({ registry: use.reference.registry, repository: use.reference.repository }, tag));
}

/** The references each used asset project needs in Docker: project name -> distinct references, in Dockerfile order. */
export function requiredReferencesByAsset(
  uses: readonly AssetUse[],
  results: ReadonlyMap<string, AssetImageResult>,
  dockerfile: string,
): Map<string, string[]> {
  const byAsset = new Map<string, string[]>();
  for (const use of uses) {
    const result = results.get(use.asset.projectName);
    if (!result) throw new Error(`${dockerfile}:${use.line}: no build result for asset "${use.asset.projectName}"`);
    const ref = requiredReference(use, result, dockerfile);
    const list = byAsset.get(use.asset.projectName) ?? [];
    if (!list.includes(ref)) list.push(ref);
    byAsset.set(use.asset.projectName, list);
  }
  return byAsset;
}
