/**
 * BuildKit path: instead of loading asset images into Docker, hand each one to
 * `docker buildx build` as a named build context read from the workspace's OCI
 * layout store (`--build-context <ref>=oci-layout://<store>@<digest>`).
 */
import { assetStorePaths } from '../../build/asset-store';
import type { AssetImageResult } from '../../build/asset-image-result';
import { resolveAssetImage, type ResolveAssetImageOptions } from '../../resolve/resolve-asset-image';
import { resolveAssetIndex } from '../../resolve/resolve-asset-index';
import { runDocker } from '../../transports/docker-cli';
import { writeOciLayout, writeOciLayoutIndex } from '../../transports/oci-layout';
import type { AssetUse } from './asset-uses';

export async function buildxAvailable(): Promise<boolean> {
  return runDocker(['buildx', 'version'], { timeoutMs: 10_000 }).then(
    () => true,
    () => false,
  );
}

/** `name -> source` for every asset use: the name as the Dockerfile resolves it, the source the layout store at the build's manifest digest. */
export function layoutBuildContextMap(
  uses: readonly AssetUse[],
  results: ReadonlyMap<string, AssetImageResult>,
  layoutDir: string,
): Record<string, string> {
  const contexts: Record<string, string> = {};
  for (const use of uses) {
    const result = results.get(use.asset.projectName);
    if (result) contexts[use.resolved] = `oci-layout://${layoutDir}@${result.manifestDigest}`;
  }
  return contexts;
}

/** Makes sure the layout store holds each used build (resolving it when not), then returns the contexts. */
export async function layoutBuildContexts(
  workspaceRoot: string,
  uses: readonly AssetUse[],
  results: ReadonlyMap<string, AssetImageResult>,
  manifestFileOf: (project: string) => string,
  resolveOptionsOf: (project: string) => ResolveAssetImageOptions = () => ({}),
): Promise<Record<string, string>> {
  const store = assetStorePaths(workspaceRoot);
  for (const [project, result] of results) {
    // A multi-platform build: the context is the index (BuildKit picks the variant of the build's platform).
    if (result.platforms) {
      const { index, origin } = await resolveAssetIndex(workspaceRoot, manifestFileOf(project), result);
      if (origin === 'sources') await writeOciLayoutIndex(store.ociLayout, index, { refNames: result.references });
      continue;
    }
    const { image, origin } = await resolveAssetImage(workspaceRoot, manifestFileOf(project), result, resolveOptionsOf(project));
    if (origin === 'sources') await writeOciLayout(store.ociLayout, image, { refNames: result.references });
  }
  return layoutBuildContextMap(uses, results, store.ociLayout);
}
