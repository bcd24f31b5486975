/**
 * What the workspace still names, read from its files: every asset project
 * (found by its asset.json, outside node_modules, dist, .nx, .git and the
 * store), its current result (`dist/asset-images/<project>/image.json`, the
 * inferred target's output path), its lock's image and files, its history,
 * and the remote sources its asset.json pins.
 */
import { readFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import fg from 'fast-glob';
import { assetResultDir, readAssetImageResult } from '../asset/asset-image-result';
import { ASSET_LOCK_FILE, readAssetLock } from '../lock/lock';
import { ASSET_MANIFEST_FILE, defaultAssetName, parseAssetManifest } from '../manifest/manifest';
import { findDigests } from '../oci/digest';
import type { Digest } from '../oci/image';
import { keptHistory } from './store-gc-plan';
import { readHistory } from './store-history';

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
   * Every `sha256:<64 hex>` written in a Dockerfile (`FROM asset/bert@sha256:…` pins a build that
   * docker-build loads): kept whatever image it belongs to; keeping a digest too many costs nothing.
   */
  pinned: Set<Digest>;
}

const IGNORED = ['**/node_modules/**', 'dist/**', '**/.nx/**', '**/.git/**', '**/.asset-images/**'];

export async function findAssetManifests(workspaceRoot: string): Promise<string[]> {
  const files = await fg(`**/${ASSET_MANIFEST_FILE}`, { cwd: workspaceRoot, ignore: IGNORED, followSymbolicLinks: false });
  return files.sort();
}

/** Digests pinned in the workspace's Dockerfiles (the names the docker-build inference matches). */
export async function pinnedDigests(workspaceRoot: string): Promise<Set<Digest>> {
  const pinned = new Set<Digest>();
  const files = await fg('**/{Dockerfile,Dockerfile.*,*.Dockerfile}', { cwd: workspaceRoot, ignore: IGNORED, followSymbolicLinks: false });
  for (const file of files) {
    const text = await readFile(join(workspaceRoot, file), 'utf8').catch(() => '');
    for (const digest of findDigests(text)) pinned.add(digest);
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
      targets?: Record<string, { executor?: unknown; options?: { outputPath?: unknown } }>;
    };
    for (const target of Object.values(config.targets ?? {})) {
      const out = target.options?.outputPath;
      if (target.executor === 'nx-asset-images:asset-image' && typeof out === 'string') return out;
    }
  } catch {
    // no project.json (the usual case: the project is inferred from asset.json)
  }
  return assetResultDir(project);
}
