/**
 * The docker-build use case: make every asset image the Dockerfile uses
 * present in Docker at exactly the build recorded in its image.json (built by
 * the asset-image dependency in this run or restored from Nx's cache), or hand
 * it to BuildKit from the layout store, then run `docker build`, streaming
 * Docker's output. Reports through `DockerBuildReporter`; rendering is the caller's.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { assetStorePaths } from '../asset/asset-store';
import { readAssetImageResult, variantOf, type AssetImageResult } from '../asset/asset-image-result';
import type { AssetProjectMap } from '../asset/asset-project';
import { parsePlatform } from '../oci/platform';
import { parseDockerfile } from '../dockerfile/parse-dockerfile';
import { withStoreLease } from '../gc/store-lease';
import { ASSET_MANIFEST_FILE } from '../manifest/manifest';
import { ensureAssetImageInDocker, type EnsureInDockerOutcome } from '../resolve/docker-presence';
import { unrecordedBuildDefaults } from '../resolve/resolve-asset-image';
import { variantFromIndex } from '../resolve/resolve-asset-index';
import { runDocker } from '../transports/docker-cli';
import { defaultDockerPlatform, dockerEngine } from '../transports/docker-engine';
import { SILENT_REPORTER, withProgress, type Reporter } from '../util/progress';
import { DigestPinError, digestPinsOf, findAssetUses, requiredReferencesByAsset, type AssetUse } from './asset-uses';
import { decideBuildx, layoutBuildContexts } from './buildx-contexts';
import { defaultTags, dockerBuildArgv, exportCompressionOf } from './docker-build-argv';
import type { DockerBuildOptions } from './docker-build-options';
import { applyBuildArgs } from './dockerfile-build-args';
import { loadPinnedBuild, pinnedBuildOf } from './pinned-builds';
import { rewriteDigestPins } from './pinned-dockerfile';

export interface DockerBuildRequest {
  workspaceRoot: string;
  /** The app project: the default tag is named after it. */
  projectName: string | undefined;
  /** The app's folder: a Dockerfile's reference to an image built there is no asset use. */
  projectRoot: string | undefined;
  /** The workspace's asset projects: the images a Dockerfile may use. */
  assets: AssetProjectMap;
  /** The name of the asset-image target, for the hint when an asset's image.json is missing. */
  assetImageTargetName: string;
  options: DockerBuildOptions;
}

/** What happened, step by step, for the caller to render. */
export type DockerBuildEvent =
  | { kind: 'buildx-warning'; message: string }
  /** A digest pin handed to BuildKit from the layout store, pulled into it from the registry when only that had it. */
  | { kind: 'pin-context'; reference: string; origin: 'layout' | 'registry' | undefined }
  | { kind: 'asset-in-docker'; project: string; references: string[]; outcome: EnsureInDockerOutcome; result: AssetImageResult }
  | { kind: 'pin-in-docker'; project: string; dockerReference: string; state: 'present' | 'loaded'; origin: 'layout' | 'registry' }
  /** The Dockerfile the app is built from says the pinned build's content tag instead of the digest. */
  | { kind: 'pin-rewritten'; reference: string; dockerReference: string }
  | { kind: 'docker-build'; argv: string[] };

export type DockerBuildReporter = Reporter<DockerBuildEvent>;

export async function dockerBuild(request: DockerBuildRequest, reporter: DockerBuildReporter = SILENT_REPORTER): Promise<void> {
  // docker-build reads the layout store (BuildKit contexts, pinned builds): gc waits for it.
  await withStoreLease(assetStorePaths(request.workspaceRoot).root, () => buildApp(request, reporter));
}

async function buildApp(request: DockerBuildRequest, reporter: DockerBuildReporter): Promise<void> {
  const { workspaceRoot: root, options } = request;
  const dockerfile = options.dockerfile;

  // (a) the asset images the Dockerfile uses, with the user's build args over the ARG defaults.
  const text = applyBuildArgs(readFileSync(join(root, dockerfile), 'utf8'), options.buildArgs);
  const uses = findAssetUses(parseDockerfile(text, dockerfile), request.assets, request.projectRoot);
  const results = await usedResults(root, uses, dockerfile, request.assetImageTargetName);
  const needed = requiredReferencesByAsset(uses, results, dockerfile);
  const pins = digestPinsOf(uses, results);
  const assetOf = (name: string) => uses.find((u) => u.asset.projectName === name)!.asset;
  const manifestFileOf = (name: string): string => posix.join(assetOf(name).root, ASSET_MANIFEST_FILE);
  // A rebuild from the sources uses the parameters the result records; today's settings only for an image.json without them.
  const rebuildDefaultsOf = (name: string) => unrecordedBuildDefaults(results.get(name)!, assetOf(name).imageTargetOptions);

  // (b) every needed reference present at exactly that build, or handed to BuildKit from the layout store.
  const decision = uses.length > 0 || options.useBuildx !== undefined ? await decideBuildx(options.useBuildx) : { buildx: false };
  if (decision.warning) reporter.event({ kind: 'buildx-warning', message: decision.warning });
  const buildx = decision.buildx;
  let buildContexts: Record<string, string> | undefined;
  if (buildx) {
    // A pin of another build than the current one: into the layout store (from the registry when only it has it).
    const origins = new Map<string, 'layout' | 'registry'>();
    if (pins.some((p) => !p.current)) {
      // A multi-platform app (`linux/amd64,linux/arm64`): its first platform decides which variant's layers are checked.
      const pinPlatform = parsePlatform((options.platform ?? (await dockerBuildPlatform())).split(',')[0]!.trim());
      for (const pin of pins.filter((p) => !p.current)) {
        const { origin } = await withProgress(reporter, (onProgress) => pinnedBuildOf(root, pin, dockerfile, pinPlatform, onProgress));
        origins.set(pin.use.resolved, origin);
      }
    }
    buildContexts = await layoutBuildContexts(root, uses, results, manifestFileOf, rebuildDefaultsOf);
    for (const pin of pins) reporter.event({ kind: 'pin-context', reference: pin.use.resolved, origin: origins.get(pin.use.resolved) });
  } else {
    // A multi-platform asset: Docker gets the variant of this build's platform under the asset's tags (the
    // `platform` option, else what Docker builds for by default: DOCKER_DEFAULT_PLATFORM or the engine's).
    const platform = options.platform ?? (needed.size > 0 ? await dockerBuildPlatform() : '');
    for (const [name, refs] of needed) {
      const built = results.get(name)!;
      const variant = variantOf(built, platform);
      if (!variant) {
        throw new Error(
          `${dockerfile}: the app builds for ${platform}, and asset "${name}" is built for ${built.platforms!.map((p) => p.platform).join(', ')}: add ${platform} to its asset.json "platforms"`,
        );
      }
      const result = { ...built, ...variant };
      await withProgress(reporter, async (onProgress) => {
        const outcome = await ensureAssetImageInDocker(root, manifestFileOf(name), result, refs, {
          onProgress,
          resolve: rebuildDefaultsOf(name),
          ...(built.platforms ? { resolveImage: async () => variantFromIndex(root, manifestFileOf(name), built, platform) } : {}),
        });
        reporter.event({ kind: 'asset-in-docker', project: name, references: refs, outcome, result });
      });
    }
  }

  // (b') digest pins: Docker holds each pinned build under its content tag (another build than the current one comes
  // from the layout store or the registry), and the app is built from a Dockerfile that says that tag.
  let buildOptions = options;
  let generated: string | undefined;
  if (pins.length > 0 && !buildx) {
    const pinPlatform = parsePlatform(options.platform ?? (await dockerBuildPlatform()));
    for (const pin of pins.filter((p) => !p.current)) {
      await withProgress(reporter, async (onProgress) => {
        const loaded = await loadPinnedBuild(root, pin, dockerfile, pinPlatform, onProgress);
        reporter.event({ kind: 'pin-in-docker', project: pin.use.asset.projectName, dockerReference: pin.dockerReference, ...loaded });
      });
    }
    const rewritten = rewriteDigestPins(text, options.buildArgs, pins);
    const left = findAssetUses(parseDockerfile(rewritten.text, dockerfile), request.assets, request.projectRoot).filter(
      (u) => u.reference.digest,
    );
    if (left.length > 0) {
      throw new DigestPinError(
        dockerfile,
        left[0]!.line,
        left[0]!.resolved,
        'pins a digest, but the reference is put together from several parts (ARGs); write it in one ARG or literally so docker-build can hand Docker the pinned build',
      );
    }
    generated = await mkdtemp(join(tmpdir(), 'nxai-dockerfile-'));
    const path = join(generated, 'Dockerfile');
    await writeFile(path, rewritten.text);
    buildOptions = { ...options, dockerfile: path, ...(rewritten.buildArgs ? { buildArgs: rewritten.buildArgs } : {}) };
    for (const pin of pins) reporter.event({ kind: 'pin-rewritten', reference: pin.use.resolved, dockerReference: pin.dockerReference });
  }

  // (c) docker build.
  const exportCompression = buildx ? exportCompressionOf(options, decision.store) : undefined;
  const argv = dockerBuildArgv(buildOptions, {
    buildx,
    tags: defaultTags(options, request.projectName),
    ...(buildContexts ? { buildContexts } : {}),
    ...(exportCompression ? { exportCompression } : {}),
  });
  reporter.event({ kind: 'docker-build', argv });
  try {
    await runDocker(argv, { cwd: root, inheritOutput: true });
  } finally {
    if (generated) await rm(generated, { recursive: true, force: true });
  }
}

/** The build result (image.json) of each asset the Dockerfile uses; a missing one names the target that makes it. */
async function usedResults(
  root: string,
  uses: readonly AssetUse[],
  dockerfile: string,
  assetImageTargetName: string,
): Promise<Map<string, AssetImageResult>> {
  const results = new Map<string, AssetImageResult>();
  for (const use of uses) {
    const name = use.asset.projectName;
    if (results.has(name)) continue;
    const result = await readAssetImageResult(join(root, use.asset.resultDir));
    if (!result)
      throw new Error(
        `${dockerfile}:${use.line}: ${use.resolved} is asset "${name}", but ${use.asset.resultDir}/image.json is missing: run "nx run ${name}:${assetImageTargetName}" (docker-build depends on it)`,
      );
    results.set(name, result);
  }
  return results;
}

/** The platform `docker build` without `--platform` builds for: DOCKER_DEFAULT_PLATFORM, else the engine's. */
async function dockerBuildPlatform(): Promise<string> {
  const engine = await dockerEngine();
  if (!engine) throw new Error('docker-build: no Docker engine answers "docker version" (is dockerd running, is DOCKER_HOST right?)');
  return defaultDockerPlatform(engine);
}
