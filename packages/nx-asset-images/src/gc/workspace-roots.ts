/**
 * What the workspace still names, read from its files: every asset project
 * (found by its asset.json, outside the folders `WORKSPACE_GLOB_IGNORE` names:
 * node_modules, dist, .nx, .git and the store), its current result
 * (`<outputPath>/image.json`, `dist/asset-images/<project>` unless its
 * project.json says otherwise), its lock's image and files, its history, and
 * the remote sources its asset.json pins.
 */
import { readFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import fg from 'fast-glob';
import { readAssetImageResult } from '../asset/asset-image-result';
import { isDockerfileName } from '../dockerfile/find-image-references';
import { findPinnedDigests } from '../dockerfile/find-pinned-digests';
import { parseDockerfile } from '../dockerfile/parse-dockerfile';
import { ASSET_LOCK_FILE, readAssetLock } from '../lock/lock';
import { defaultAssetName, parseAssetManifest } from '../manifest/manifest';
import type { Digest } from '../oci/image';
import { keptHistory } from './store-gc-plan';
import { readHistory } from './store-history';
import {
  ASSET_MANIFEST_GLOB,
  assetImageOutputPath,
  DOCKERFILE_GLOB,
  WORKSPACE_GLOB_IGNORE,
  type ProjectTargets,
} from '../workspace/workspace-facts';

export interface AssetRoots {
  project: string;
  /** The asset folder, workspace-relative (posix). */
  root: string;
  /** `image` of asset.json (Docker repository of its tags). */
  image: string;
  /** Kept image digests: current, history, lock. */
  images: Digest[];
  /** Every build the history records (kept or not): the only ones whose Docker content tags gc removes. */
  recorded: Digest[];
}

export interface WorkspaceRoots {
  assets: AssetRoots[];
  /** sha256 hex of remote sources named by asset.json or locks. */
  sources: Set<string>;
  /** A manifest could not be read: its sources are unknown, so no source is removed. */
  keepAllSources: boolean;
  /**
   * Every digest an image reference of a Dockerfile pins (`COPY --from=asset/bert@sha256:…` pins a
   * build that docker-build loads; `dockerfile/find-pinned-digests.ts`): kept whatever image it
   * belongs to; keeping a digest too many costs nothing.
   */
  pinned: Set<Digest>;
}

/** Files matching `glob` under the workspace root, outside the folders never searched, sorted. */
async function globWorkspace(workspaceRoot: string, glob: string): Promise<string[]> {
  const files = await fg(glob, { cwd: workspaceRoot, ignore: [...WORKSPACE_GLOB_IGNORE], followSymbolicLinks: false });
  return files.sort();
}

export function findAssetManifests(workspaceRoot: string): Promise<string[]> {
  return globWorkspace(workspaceRoot, ASSET_MANIFEST_GLOB);
}

/**
 * Digests pinned by the image references of the workspace's Dockerfiles (the
 * files the docker-build inference reads), read with the Dockerfile parser.
 * An unreadable file pins nothing; a `DockerfileParseError` (the parser
 * itself failed) is thrown: gc then removes nothing rather than lose a pin.
 */
export async function pinnedDigests(workspaceRoot: string): Promise<Set<Digest>> {
  const pinned = new Set<Digest>();
  for (const file of await globWorkspace(workspaceRoot, DOCKERFILE_GLOB)) {
    if (!isDockerfileName(posix.basename(file))) continue;
    const text = await readFile(join(workspaceRoot, file), 'utf8').catch(() => undefined);
    if (text === undefined) continue;
    for (const digest of findPinnedDigests(parseDockerfile(text, file))) pinned.add(digest);
  }
  return pinned;
}

export async function workspaceRoots(workspaceRoot: string, storeRoot: string, history: number): Promise<WorkspaceRoots> {
  const roots: WorkspaceRoots = { assets: [], sources: new Set(), keepAllSources: false, pinned: await pinnedDigests(workspaceRoot) };
  for (const file of await findAssetManifests(workspaceRoot)) {
    const projectRoot = posix.dirname(file);
    const text = await readFile(join(workspaceRoot, file), 'utf8');
    let name: string;
    let image: string;
    try {
      const manifest = parseAssetManifest(text, file, projectRoot);
      for (const source of manifest.sources) roots.sources.add(source.sha256);
      ({ name, image } = manifest);
    } catch {
      roots.keepAllSources = true;
      const summary = parseAssetManifest(text, file, projectRoot, { tolerant: true });
      if (!summary.ok) continue;
      name = summary.name ?? defaultAssetName(projectRoot);
      image = summary.image;
    }
    const images: Digest[] = [];
    const result = await readAssetImageResult(join(workspaceRoot, await resultDirOf(workspaceRoot, projectRoot, name)));
    const recorded = (await readHistory(storeRoot, name)).map((b) => b.digest);
    images.push(...keptHistory(result?.manifestDigest, recorded, history));
    const lock = await readAssetLock(join(workspaceRoot, projectRoot, ASSET_LOCK_FILE)).catch(() => undefined);
    if (lock?.image && !images.includes(lock.image.manifest as Digest)) images.push(lock.image.manifest as Digest);
    for (const entry of Object.values(lock?.files ?? {})) roots.sources.add(entry.sha256);
    roots.assets.push({ project: name, root: projectRoot, image, images, recorded });
  }
  return roots;
}

/**
 * The asset-image target's `outputPath` when the asset's project.json sets one
 * (read as plain JSON: the core does not load Nx), else the inferred target's.
 */
async function resultDirOf(workspaceRoot: string, projectRoot: string, project: string): Promise<string> {
  try {
    const config = JSON.parse(await readFile(join(workspaceRoot, projectRoot, 'project.json'), 'utf8')) as {
      targets?: ProjectTargets;
    } | null;
    return assetImageOutputPath(config?.targets, project);
  } catch {
    // no project.json (the usual case: the project is inferred from asset.json), or not one we can read
  }
  return assetImageOutputPath(undefined, project);
}
