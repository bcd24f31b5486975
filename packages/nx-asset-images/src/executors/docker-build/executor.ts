/**
 * `docker-build`: make every asset image the Dockerfile uses present in Docker
 * at exactly the build recorded in `dist/asset-images/<asset>/image.json`
 * (built by the `asset-image` dependency in this run or restored from Nx's
 * cache), then run `docker build`, streaming Docker's output.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { logger, type ExecutorContext } from '../../nx/devkit';
import { optionsAsWritten, taskOverrideWords } from '../../nx/option-text';
import { assetStorePaths } from '../../asset/asset-store';
import { withStoreLease } from '../../gc/store-lease';
import { readAssetImageResult, variantOf, type AssetImageResult } from '../../asset/asset-image-result';
import { variantFromIndex } from '../../resolve/resolve-asset-index';
import { ensureAssetImageInDocker } from '../../resolve/docker-presence';
import { runDocker } from '../../transports/docker-cli';
import { parsePlatform, type Platform } from '../../oci/platform';
import { defaultDockerPlatform, dockerEngine } from '../../transports/docker-engine';
import type { OnProgress } from '../../util/progress';
import { unrecordedBuildDefaults } from '../../resolve/resolve-asset-image';
import { ASSET_MANIFEST_FILE } from '../../manifest/manifest';
import { parseDockerfile } from '../../dockerfile/parse-dockerfile';
import { findAssetImagesInWorkspace } from '../../nx/asset-images-in-workspace';
import { assetImageOutputPath, assetImageTargetOptions } from '../../nx/asset-image-target';
import { normalizePluginOptions } from '../../nx/plugin-options';
import { createProgressRenderer } from '../progress-renderer';
import { DigestPinError, digestPinsOf, findAssetUses, requiredReferencesByAsset, type DigestPin } from './asset-uses';
import { rewriteDigestPins } from './pinned-dockerfile';
import { ensurePinnedInDocker, PinnedImageUnavailableError, resolvePinnedImage } from '../../resolve/pinned-image';
import { decideBuildx, layoutBuildContexts } from './buildx-contexts';
import { defaultTags, dockerBuildArgv, exportCompressionOf } from './docker-build-argv';
import { applyBuildArgs } from './dockerfile-build-args';
import type { DockerBuildExecutorOptions } from './schema';

export default async function dockerBuildExecutor(
  options: DockerBuildExecutorOptions,
  context: ExecutorContext,
): Promise<{ success: boolean }> {
  try {
    // docker-build reads the layout store (BuildKit contexts, pinned builds): gc waits for it.
    const asWritten = optionsAsWritten(options, ['tags', 'buildArgs'], taskOverrideWords(context), { arrays: ['tags'] });
    await withStoreLease(assetStorePaths(context.root).root, () => dockerBuildTask(asWritten, context));
    return { success: true };
  } catch (error) {
    logger.error(error instanceof Error ? error.message : String(error));
    if (process.env['NX_VERBOSE_LOGGING'] === 'true' && error instanceof Error && error.stack) logger.error(error.stack);
    return { success: false };
  }
}

export async function dockerBuildTask(options: DockerBuildExecutorOptions, context: ExecutorContext): Promise<void> {
  const root = context.root;
  const dockerfile = options.dockerfile;
  const projects = context.projectsConfigurations?.projects ?? {};
  const projectRoot = context.projectName ? projects[context.projectName]?.root : undefined;

  // (a) the asset images the Dockerfile uses, with the user's build args over the ARG defaults.
  const text = applyBuildArgs(readFileSync(join(root, dockerfile), 'utf8'), options.buildArgs);
  const parsed = parseDockerfile(text, dockerfile);
  const assets = findAssetImagesInWorkspace(projects, root);
  const uses = findAssetUses(parsed, assets, projectRoot);
  const results = new Map<string, AssetImageResult>();
  for (const use of uses) {
    const name = use.asset.projectName;
    if (results.has(name)) continue;
    const dir = assetImageOutputPath(projects[name]?.targets, name);
    const result = await readAssetImageResult(join(root, dir));
    if (!result)
      throw new Error(
        `${dockerfile}:${use.line}: ${use.resolved} is asset "${name}", but ${dir}/image.json is missing: run "nx run ${name}:${assetTargetName()}" (docker-build depends on it)`,
      );
    results.set(name, result);
  }
  const needed = requiredReferencesByAsset(uses, results, dockerfile);
  const pins = digestPinsOf(uses, results);
  const manifestFileOf = (name: string): string =>
    posix.join(uses.find((u) => u.asset.projectName === name)!.asset.root, ASSET_MANIFEST_FILE);
  // A rebuild from the sources uses the parameters the result records; today's settings only for an image.json without them.
  const rebuildDefaultsOf = (name: string) => unrecordedBuildDefaults(results.get(name)!, assetImageTargetOptions(projects[name]?.targets));

  // (b) every needed reference present at exactly that build, or handed to BuildKit from the layout store.
  const decision = uses.length > 0 || options.useBuildx !== undefined ? await decideBuildx(options.useBuildx) : { buildx: false };
  if (decision.warning) logger.warn(decision.warning);
  const buildx = decision.buildx;
  let buildContexts: Record<string, string> | undefined;
  if (buildx) {
    // A pin of another build than the current one: into the layout store (from the registry when only it has it).
    const origins = new Map<string, 'layout' | 'registry'>();
    if (pins.some((p) => !p.current)) {
      // A multi-platform app (`linux/amd64,linux/arm64`): its first platform decides which variant's layers are checked.
      const pinPlatform = parsePlatform((options.platform ?? (await dockerBuildPlatform())).split(',')[0]!.trim());
      for (const pin of pins.filter((p) => !p.current))
        origins.set(pin.use.resolved, (await pinnedBuildOf(root, pin, dockerfile, pinPlatform)).origin);
    }
    buildContexts = await layoutBuildContexts(root, uses, results, manifestFileOf, rebuildDefaultsOf);
    for (const pin of pins) {
      const from =
        origins.get(pin.use.resolved) === 'registry' ? 'pulled from the registry into the layout store' : 'from the layout store';
      logger.info(`${pin.use.resolved}: the pinned build, ${from}`);
    }
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
      const progress = createProgressRenderer();
      try {
        const outcome = await ensureAssetImageInDocker(root, manifestFileOf(name), result, refs, {
          onProgress: progress.onProgress,
          resolve: rebuildDefaultsOf(name),
          ...(built.platforms
            ? {
                resolveImage: async () => variantFromIndex(root, manifestFileOf(name), built, platform),
              }
            : {}),
        });
        const state = Object.entries(outcome.before)
          .map(([ref, p]) => `${ref} ${p}`)
          .join(', ');
        if (outcome.action === 'none') logger.info(`${name}: ${refs.join(', ')} already at ${result.configDigest}`);
        else if (outcome.action === 'tagged') logger.info(`${name}: re-tagged ${result.configDigest} (was: ${state})`);
        else logger.info(`${name}: loaded ${result.manifestDigest} from the ${outcome.action.loaded} (was: ${state})`);
      } finally {
        progress.finish();
      }
    }
  }

  // (b') digest pins: Docker holds each pinned build under its content tag (another build than the current one comes
  // from the layout store or the registry), and the app is built from a Dockerfile that says that tag.
  let buildOptions = options;
  let generated: string | undefined;
  if (pins.length > 0 && !buildx) {
    const pinPlatform = parsePlatform(options.platform ?? (await dockerBuildPlatform()));
    for (const pin of pins.filter((p) => !p.current)) await loadPinnedBuild(root, pin, dockerfile, pinPlatform);
    const rewritten = rewriteDigestPins(text, options.buildArgs, pins);
    const left = findAssetUses(parseDockerfile(rewritten.text, dockerfile), assets, projectRoot).filter((u) => u.reference.digest);
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
    for (const pin of pins) logger.info(`${pin.use.resolved} -> ${pin.dockerReference} (the pinned build, by its content tag)`);
  }

  // (c) docker build.
  const exportCompression = buildx ? exportCompressionOf(options, decision.store) : undefined;
  const argv = dockerBuildArgv(buildOptions, {
    buildx,
    tags: defaultTags(options, context.projectName),
    ...(buildContexts ? { buildContexts } : {}),
    ...(exportCompression ? { exportCompression } : {}),
  });
  logger.info(`docker ${argv.join(' ')}`);
  try {
    await runDocker(argv, { cwd: root, inheritOutput: true });
  } finally {
    if (generated) await rm(generated, { recursive: true, force: true });
  }
}

/** A pin of a build other than the asset's current one: from the layout store or the registry, into Docker under its content tag. */
async function loadPinnedBuild(root: string, pin: DigestPin, dockerfile: string, platform: Platform): Promise<void> {
  const progress = createProgressRenderer();
  try {
    const { image, origin } = await pinnedBuildOf(root, pin, dockerfile, platform, progress.onProgress);
    const state = await ensurePinnedInDocker(image, pin.dockerReference, { onProgress: progress.onProgress });
    logger.info(
      `${pin.use.asset.projectName}: ${pin.dockerReference} ${state === 'present' ? 'already in Docker' : `loaded from the ${origin}`}`,
    );
  } finally {
    progress.finish();
  }
}

/**
 * The pinned build, complete in the layout store (pulled from the registry into it when only the registry has it),
 * as the variant of `platform`; a pin nobody holds is a DigestPinError naming the Dockerfile line and the fix.
 */
async function pinnedBuildOf(
  root: string,
  pin: DigestPin,
  dockerfile: string,
  platform: Platform,
  onProgress?: OnProgress,
): Promise<Awaited<ReturnType<typeof resolvePinnedImage>>> {
  const ref = { ...pin.use.reference, digest: pin.digest };
  const progress = onProgress ? undefined : createProgressRenderer();
  try {
    return await resolvePinnedImage(root, ref, { onProgress: onProgress ?? progress!.onProgress, platform });
  } catch (error) {
    if (!(error instanceof PinnedImageUnavailableError)) throw error;
    throw new DigestPinError(
      dockerfile,
      pin.use.line,
      pin.use.resolved,
      `pins a build of asset "${pin.use.asset.projectName}" that is neither in this workspace's store nor in the registry (${error.message}). ` +
        `Push that build where it was made (\`nx run ${pin.use.asset.projectName}:asset-push\`), or pin a build that exists (the current one is in dist/asset-images/${pin.use.asset.projectName}/image.json).`,
      { cause: error },
    );
  } finally {
    progress?.finish();
  }
}

/** The platform `docker build` without `--platform` builds for: DOCKER_DEFAULT_PLATFORM, else the engine's. */
async function dockerBuildPlatform(): Promise<string> {
  const engine = await dockerEngine();
  if (!engine) throw new Error('docker-build: no Docker engine answers "docker version" (is dockerd running, is DOCKER_HOST right?)');
  return defaultDockerPlatform(engine);
}

function assetTargetName(): string {
  return normalizePluginOptions(undefined).assetImageTargetName;
}
