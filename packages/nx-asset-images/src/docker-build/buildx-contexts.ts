/**
 * BuildKit path: instead of loading asset images into Docker, hand each one to
 * `docker buildx build` as a named build context read from the workspace's OCI
 * layout store (`--build-context <ref>=oci-layout://<store>@<digest>`). The
 * name is the reference as the Dockerfile resolves it (after ARGs), digest pins
 * included: BuildKit looks a `FROM`/`COPY --from` image up under that name.
 */
import { assetStorePaths } from '../asset/asset-store';
import type { AssetImageResult } from '../asset/asset-image-result';
import { resolveAssetImage, type ResolveAssetImageOptions } from '../resolve/resolve-asset-image';
import { resolveAssetIndex } from '../resolve/resolve-asset-index';
import { runDocker } from '../transports/docker-cli';
import { writeOciLayout, writeOciLayoutIndex } from '../transports/oci-layout';
import { dockerImageStore, type DockerImageStore } from '../transports/docker-engine';
import type { AssetUse } from './asset-uses';

/**
 * Whether docker-build hands assets to BuildKit as layout contexts. `useBuildx` true or false decides; unset, buildx
 * is used where it was measured to pay: docker buildx is installed and the engine keeps images in containerd's store
 * (Docker 29's default), where `docker load` of an asset is a full copy, and DOCKER_BUILDKIT=0 does not ask for the
 * legacy builder. On the classic store, loading stays (it sends only the layers Docker lacks). Pure.
 */
export function buildxDecision(
  useBuildx: boolean | undefined,
  facts: { buildxInstalled: boolean; store: DockerImageStore; legacyBuilder?: boolean },
): { buildx: boolean; warning?: string } {
  if (useBuildx === false) return { buildx: false };
  if (useBuildx === true) {
    return facts.buildxInstalled
      ? { buildx: true }
      : {
          buildx: false,
          warning: 'docker-build: useBuildx is set but "docker buildx version" fails; loading the asset images into Docker instead.',
        };
  }
  // DOCKER_BUILDKIT=0 asks for the legacy builder: only an explicit useBuildx overrides that.
  return { buildx: facts.buildxInstalled && facts.store === 'containerd' && facts.legacyBuilder !== true };
}

/** The facts `buildxDecision` needs, asked of the CLI and engine (nothing asked when the option decides alone). */
export async function decideBuildx(
  useBuildx: boolean | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ buildx: boolean; warning?: string; store?: DockerImageStore }> {
  const legacyBuilder = legacyBuilderAsked(env);
  if (useBuildx === false || (useBuildx === undefined && legacyBuilder)) return { buildx: false };
  const buildxInstalled = await buildxAvailable();
  const store = buildxInstalled ? await dockerImageStore() : undefined;
  return { ...buildxDecision(useBuildx, { buildxInstalled, store: store ?? 'classic', legacyBuilder }), ...(store ? { store } : {}) };
}

/** DOCKER_BUILDKIT set to false (the Docker CLI reads it as a boolean: 0, false): the legacy builder is asked for. */
export function legacyBuilderAsked(env: NodeJS.ProcessEnv): boolean {
  return /^(0|false)$/i.test((env['DOCKER_BUILDKIT'] ?? '').trim());
}

export async function buildxAvailable(): Promise<boolean> {
  return runDocker(['buildx', 'version'], { timeoutMs: 10_000 }).then(
    () => true,
    () => false,
  );
}

/**
 * `name -> source` for every asset use: the name as the Dockerfile resolves it, the source the layout store at the
 * digest the use pins, else at the build's manifest (or index) digest.
 */
export function layoutBuildContextMap(
  uses: readonly AssetUse[],
  results: ReadonlyMap<string, AssetImageResult>,
  layoutDir: string,
): Record<string, string> {
  const contexts: Record<string, string> = {};
  for (const use of uses) {
    const result = results.get(use.asset.projectName);
    if (result) contexts[use.resolved] = `oci-layout://${layoutDir}@${use.reference.digest ?? result.manifestDigest}`;
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
  // An asset used only through pins of other builds needs none of its current build.
  const current = new Set(
    uses
      .filter((use) => use.reference.digest === undefined || use.reference.digest === results.get(use.asset.projectName)?.manifestDigest)
      .map((use) => use.asset.projectName),
  );
  for (const [project, result] of results) {
    if (!current.has(project)) continue;
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
