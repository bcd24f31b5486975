/**
 * `--from=hf://<org>/<repo>[@<revision>]`: the import of a Hub revision into
 * an asset's `sources`, for a new asset or an existing one. Everything that
 * can fail (the Hub, the selection) happens before the Tree is written, so a
 * failed import writes nothing.
 */
import { logger, writeJson, type Tree } from '../../nx/devkit';
import { assetStorePaths } from '../../asset/asset-store';
import { importHubRevision, type HubImport } from '../../hub/hub-import';
import { hubEndpoint } from '../../hub/hub-endpoint';
import { formatHubRef } from '../../hub/hub-ref';
import { parseGlobList } from '../../hub/hub-selection';
import { hasChanges, sourceChanges, type SourceChanges } from '../../hub/hub-sources';
import { DEFAULT_MUTABLE_TAGS } from '../../transports/registry';
import { formatBytes } from '../../util/format-bytes';
import { manifestSource } from './asset-files';
import { InvalidAssetOptionError, RESERVED_FILES, type AssetSource, type HubImportRequest } from './asset-options';
import type { AssetProjectInTree } from './asset-projects';

/**
 * Imports the revision (network, source cache; no Tree write) and prints its commit, files and size.
 * The asset's own files and the paths in `taken` (other sources of the asset) are left out.
 */
export async function importFromHub(tree: Tree, request: HubImportRequest, taken: readonly string[] = []): Promise<HubImport> {
  const imported = await importHubRevision({
    ref: request.ref,
    selection: request.selection,
    cacheDir: assetStorePaths(tree.root).sources,
    leaveOut: new Set([...RESERVED_FILES, ...taken]),
  });
  const shown = formatHubRef(request.ref);
  if (imported.sources.length === 0) {
    throw new InvalidAssetOptionError(
      'include',
      request.selection.include.join(','),
      `no file of ${shown} (commit ${imported.commit}, ${imported.listed} files) is selected by --include/--exclude; nothing was written`,
    );
  }
  logger.info(`${shown} is commit ${imported.commit}${request.ref.revisionGiven ? '' : ' (no revision given: took main)'}`);
  const count = imported.sources.length;
  logger.info(
    `${count} ${count === 1 ? 'file' : 'files'}, ${formatBytes(imported.totalSize)} (${imported.totalSize} bytes), pinned to that commit`,
  );
  for (const path of imported.leftOut) logger.info(`${path} left out: the asset has that path already (its own file or another source)`);
  return imported;
}

/** Whether a source came from `repoId` on `endpoint` (a `resolve` URL of that repository). */
function fromRepository(source: AssetSource, endpoint: string, repoId: string): boolean {
  return source.url.startsWith(`${endpoint}/${repoId}/resolve/`);
}

function describeChanges(changes: SourceChanges): string[] {
  if (!hasChanges(changes)) return ['no file changed'];
  return [
    ...changes.changed.map((path) => `changed: ${path}`),
    ...changes.added.map((path) => `added:   ${path}`),
    ...changes.removed.map((path) => `removed: ${path}`),
  ];
}

/**
 * `--from` on an existing asset: its sources from that repository become the
 * new revision's, every other field and source stays. Prints which files
 * changed, and warns when version tags stay on changed content.
 */
export async function updateAssetFromHub(tree: Tree, asset: AssetProjectInTree, request: HubImportRequest): Promise<void> {
  const manifest = JSON.parse(tree.read(asset.manifestPath, 'utf-8') ?? '') as Record<string, unknown>;
  if (typeof manifest !== 'object' || manifest === null || Array.isArray(manifest)) {
    throw new InvalidAssetOptionError('from', undefined, `${asset.manifestPath} is not a JSON object; fix it first`);
  }
  const current = Array.isArray(manifest['sources']) ? (manifest['sources'] as AssetSource[]) : [];
  const endpoint = hubEndpoint(process.env);
  const before = current.filter((source) => fromRepository(source, endpoint, request.ref.repoId));
  const kept = current.filter((source) => !fromRepository(source, endpoint, request.ref.repoId));
  const imported = await importFromHub(
    tree,
    request,
    kept.map((source) => source.path),
  );
  const changes = sourceChanges(before, imported.sources);

  // Replaced in place: the other fields keep their values and their order.
  writeJson(tree, asset.manifestPath, { ...manifest, sources: [...kept, ...imported.sources.map(manifestSource)] });
  logger.info(`${asset.manifestPath}: sources of ${request.ref.repoId} updated`);
  for (const line of describeChanges(changes)) logger.info(`  ${line}`);

  const tags = Array.isArray(manifest['tags'])
    ? (manifest['tags'] as unknown[]).filter((t): t is string => typeof t === 'string')
    : ['latest'];
  const versionTags = tags.filter((tag) => !DEFAULT_MUTABLE_TAGS.includes(tag));
  if (hasChanges(changes) && versionTags.length > 0) {
    logger.warn(
      `${asset.name}: the content changes but the version tags ${versionTags.join(', ')} stay the same; ` +
        `asset-push refuses to move a version tag to other content. Give the asset new "tags" in ${asset.manifestPath}.`,
    );
  }
}

/** `--image` and `--tags` that differ from an existing asset's: left as asset.json has them, and said so. */
export function warnUnusedOptions(
  asset: AssetProjectInTree,
  given: { image?: string | undefined; tags?: string | string[] | undefined },
): void {
  const current = { image: asset.summary.ok ? asset.summary.image : undefined, tags: asset.summary.tags };
  const image = given.image?.trim();
  if (image !== undefined && image !== '' && image !== current.image) {
    logger.warn(`--image ${image} is not used: ${asset.manifestPath} keeps its "image"; edit it there to change it.`);
  }
  const tags = given.tags === undefined ? undefined : parseGlobList(given.tags);
  if (tags !== undefined && tags.join(',') !== current.tags.join(',')) {
    logger.warn(`--tags ${tags.join(',')} is not used: ${asset.manifestPath} keeps its "tags"; edit them there to change them.`);
  }
}
