/**
 * How the plugin lives in an Nx workspace, written once: its name in
 * nx.json, its executors and default target names, its defaults, the files it
 * reads (asset.json and Dockerfiles) and the folders it never looks in, and
 * where an asset build's result goes. Read by the Nx glue (plugin, executors,
 * generators, nx/) and by what reads the workspace without Nx (gc, the
 * `nx-asset-images` command), so it imports no Nx. Constants and pure
 * functions.
 */
import { ASSET_STORE_DIR } from '../asset/asset-store';
import { ASSET_MANIFEST_FILE } from '../manifest/manifest';

/** The package, and the name users register in nx.json `plugins`. */
export const PLUGIN_NAME = 'nx-asset-images';

/** Entry points a user may register the plugin by in nx.json `plugins`: the package or its `./plugin` export. */
export const PLUGIN_SPECIFIERS: readonly string[] = [PLUGIN_NAME, `${PLUGIN_NAME}/plugin`];

export function isPluginSpecifier(value: unknown): boolean {
  return typeof value === 'string' && PLUGIN_SPECIFIERS.includes(value);
}

export const ASSET_IMAGE_EXECUTOR = `${PLUGIN_NAME}:asset-image`;
export const ASSET_PUSH_EXECUTOR = `${PLUGIN_NAME}:asset-push`;
export const ASSET_PULL_EXECUTOR = `${PLUGIN_NAME}:asset-pull`;
export const DOCKER_BUILD_EXECUTOR = `${PLUGIN_NAME}:docker-build`;
export const INVALID_MANIFEST_EXECUTOR = `${PLUGIN_NAME}:invalid-manifest`;
/** The global sync generator (`sync.globalGenerators` in nx.json) that keeps asset.lock.json files current. */
export const LOCK_SYNC_GENERATOR = `${PLUGIN_NAME}:lock`;

/** Names of the inferred targets when the plugin options name none. */
export const DEFAULT_TARGET_NAMES = {
  assetImage: 'asset-image',
  assetPush: 'asset-push',
  assetPull: 'asset-pull',
  dockerBuild: 'docker-build',
} as const;

/**
 * Default number of earlier builds kept per asset besides the current one
 * (plugin option `storeHistory`): 2 covers "go back one version" and the
 * build before a bad edit was reverted, while ten versions of a large weight
 * cost at most three copies.
 */
export const DEFAULT_STORE_HISTORY = 2;

/** Dockerfile names the plugin reads (`isDockerfileName` of dockerfile/ is the same rule for one name). */
const DOCKERFILE_NAMES = ['Dockerfile', 'Dockerfile.*', '*.Dockerfile'] as const;
export const DOCKERFILE_GLOB = `**/{${DOCKERFILE_NAMES.join(',')}}`;
export const ASSET_MANIFEST_GLOB = `**/${ASSET_MANIFEST_FILE}`;
/** Asset manifests and the Dockerfiles that may consume asset images: the plugin's createNodes glob. */
export const ASSET_IMAGES_GLOB = `**/{${[ASSET_MANIFEST_FILE, ...DOCKERFILE_NAMES].join(',')}}`;

/** Build outputs: `dist/` at the workspace root (the init generator gitignores `dist`, at any depth). */
export const DIST_DIR = 'dist';

/**
 * Folders never searched for asset.json or Dockerfiles when the plugin globs
 * the disk itself (Nx's own file list has its own ignores): dependencies,
 * build outputs at any depth (as the `dist` line of .gitignore ignores them),
 * Nx's cache, Git, and the local store.
 */
export const WORKSPACE_GLOB_IGNORE: readonly string[] = [
  '**/node_modules/**',
  `**/${DIST_DIR}/**`,
  '**/.nx/**',
  '**/.git/**',
  `**/${ASSET_STORE_DIR}/**`,
];

/** Where an asset project's small build result (image.json) goes by default, workspace-relative: the inferred target's `outputPath` and Nx-cached output. */
export function assetResultDir(projectName: string): string {
  return `${DIST_DIR}/asset-images/${projectName}`;
}

/** A project's targets as project.json or Nx's project configuration hold them (only what is read here). */
export type ProjectTargets = Readonly<Record<string, { readonly executor?: unknown; readonly options?: unknown }>> | undefined;

/** The asset-image target's `outputPath` (whatever the target is named), else the default `dist/asset-images/<project>`. */
export function assetImageOutputPath(targets: ProjectTargets, projectName: string): string {
  for (const target of Object.values(targets ?? {})) {
    const out = (target.options as { outputPath?: unknown } | undefined)?.outputPath;
    if (target.executor === ASSET_IMAGE_EXECUTOR && typeof out === 'string') return out;
  }
  return assetResultDir(projectName);
}
