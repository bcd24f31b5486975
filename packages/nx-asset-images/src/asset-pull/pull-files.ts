/**
 * `asset-pull`: writes the files the lock pins and this clone lacks (missing,
 * or a Git LFS pointer in their place) into the asset folder, from the
 * registry, like `git lfs pull` or `dvc pull`. Each file comes out of its
 * layer (the lock's descriptor, fetched by digest into the layout store and
 * verified there, then decompressed and read as a tar), is checked against the
 * lock's size and sha256 while it is written to a temp file beside its place,
 * gets the lock's mode and is renamed into place. Present files are left
 * alone; a second run has nothing to do and fetches nothing.
 */
import { chmod, realpath, rm, stat } from 'node:fs/promises';
import { dirname, posix, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import picomatch from 'picomatch';
import { extract } from 'tar-stream';
import { AssetAbsentFilesError } from '../errors/asset-errors';
import type { AnalyzedFile, AssetAnalysis } from '../asset/analyze-asset';
import type { AssetBuildOptions } from '../asset/build-options';
import { pinnedLayerBytes } from '../assembly/pinned-layer-bytes';
import { prepareAsset, withStatCache } from '../assembly/prepare-asset';
import { frameKey, stampOf, type StatCache } from '../hashing/stat-cache';
import { ASSET_LOCK_FILE, type AssetLockLayer } from '../lock/lock';
import { imagePathOf } from '../asset/layer-plan';
import { digestHex, DigestingPassThrough, DigestMismatchError } from '../oci/digest';
import { layerCodecOf } from '../oci/layer-codecs';
import type { Digest } from '../oci/image';
import { writeStreamAtomic } from '../util/atomic-write';
import type { OnProgress } from '../util/progress';

export interface PullFilesRequest {
  /** Workspace-relative asset.json. */
  manifestFile: string;
  /** Only absent files matching this glob (relative to the asset folder). */
  files?: string;
  onProgress?: OnProgress;
}

export interface PullFilesOutcome {
  project: string;
  /** Files written, relative to the asset folder. */
  written: string[];
  /** Absent files the glob left out. */
  skipped: string[];
  /** Layer blobs that had to come from the registry (the rest were in the layout store). */
  fetchedLayers: number;
  bytes: number;
}

export async function pullAssetFiles(options: AssetBuildOptions, request: PullFilesRequest): Promise<PullFilesOutcome> {
  return withStatCache(options, posix.dirname(request.manifestFile), (cache) => pullWithCache(options, request, cache));
}

async function pullWithCache(options: AssetBuildOptions, request: PullFilesRequest, cache: StatCache): Promise<PullFilesOutcome> {
  const analysis = await prepareAsset(options, request.manifestFile, { sources: 'skip', cache });
  const { manifest } = analysis;
  const lockFile = posix.join(manifest.projectRoot, ASSET_LOCK_FILE);
  const match = request.files ? picomatch(request.files, { dot: true }) : () => true;
  const wanted = analysis.absent.filter((file) => match(file.relPath));
  const outcome: PullFilesOutcome = {
    project: manifest.name,
    written: [],
    skipped: analysis.absent.filter((file) => !match(file.relPath)).map((file) => file.relPath),
    fetchedLayers: 0,
    bytes: 0,
  };
  if (wanted.length === 0) return outcome;
  // Each absent file's layer, as the lock pins it (whatever the layer plan of this build would be).
  const pins = analysis.committedLock?.lockfileVersion === 2 ? (analysis.committedLock.image?.layers ?? []) : [];
  const byLayer = new Map<AssetLockLayer, AnalyzedFile[]>();
  const unpinned: string[] = [];
  for (const file of wanted) {
    const layer = pins.find((pin) => pin.files.includes(file.relPath));
    if (!layer) unpinned.push(file.relPath);
    else byLayer.set(layer, [...(byLayer.get(layer) ?? []), file]);
  }
  if (unpinned.length > 0) {
    throw new AssetAbsentFilesError(
      lockFile,
      unpinned,
      `${lockFile} does not pin their layer (lockfileVersion 1, or no "image"). Build where the files are (\`nx run ${manifest.name}:asset-image\`) and commit ${lockFile}.`,
    );
  }
  // The files are what this keeps: a layer the store lacks streams from the registry straight into them.
  const bytesOf = pinnedLayerBytes({
    keep: false,
    layoutDir: options.store.ociLayout,
    image: manifest.image,
    ...(analysis.committedLock?.image?.repository !== undefined ? { lockRepository: analysis.committedLock.image.repository } : {}),
    lockFile,
    project: manifest.name,
    ...(request.onProgress ? { onProgress: request.onProgress } : {}),
  });
  const assetDir = resolve(options.workspaceRoot, manifest.projectRoot);
  // The lock's destination, not asset.json's: the layer's entry names are the ones it was built with.
  const destination = analysis.committedLock?.image?.destination ?? manifest.destination;
  for (const [pin, files] of byLayer) {
    for (const file of files) await assertInsideFolder(assetDir, file.absPath, lockFile, file.relPath);
    const missing = await extractFiles(pin, files, destination, bytesOf, outcome, (file) => remember(cache, analysis, pin, file));
    if (missing.length > 0) {
      throw new AssetAbsentFilesError(lockFile, missing, `their layer ${pin.digest} does not hold them (the lock and the image disagree)`);
    }
  }
  return outcome;
}

/** Returns the files the layer did not hold. */
async function extractFiles(
  pin: AssetLockLayer,
  files: readonly AnalyzedFile[],
  destination: string,
  bytesOf: ReturnType<typeof pinnedLayerBytes>,
  outcome: PullFilesOutcome,
  written: (file: AnalyzedFile) => Promise<void>,
): Promise<string[]> {
  const byImagePath = new Map(files.map((file) => [imagePathOf(destination, file.relPath), file]));
  const descriptor = { mediaType: pin.mediaType, digest: pin.digest as Digest, size: pin.size };
  const tar = extract();
  tar.on('entry', (header, stream, next) => {
    // The extract destroys the entry stream with its own error when it fails; the pipeline reports that one.
    stream.on('error', () => {});
    const name = header.name.replace(/^\.?\//, '');
    const file = byImagePath.get(name);
    if (file) byImagePath.delete(name);
    if (!file || header.type !== 'file') {
      stream.on('end', next);
      stream.resume();
      return;
    }
    writeVerified(file, stream as unknown as Readable)
      .then(() => written(file))
      .then(
        () => {
          outcome.written.push(file.relPath);
          outcome.bytes += file.size;
          next();
        },
        (error: unknown) => next(error as Error),
      );
  });
  const source = bytesOf(
    descriptor,
    files.map((file) => file.relPath),
  );
  // tar-stream's extract is a streamx Writable, which Node's pipeline drives like its own streams.
  await pipeline([source, ...layerCodecOf(pin.mediaType).decompress(), tar] as unknown as NodeJS.ReadWriteStream[]);
  return [...byImagePath.values()].map((file) => file.relPath);
}

/**
 * The stat cache learns the file as written (its content is the lock's, just
 * verified), so the next build does not read it again: its sha256 and, for a
 * large file whose layer the lock pins with this very frame (same path,
 * mode, mtime), that layer's diffID, which is the digest of frame and content.
 */
async function remember(cache: StatCache, analysis: AssetAnalysis, pin: AssetLockLayer, file: AnalyzedFile): Promise<void> {
  const stats = await stat(file.absPath, { bigint: true });
  const layer = analysis.layers.find((candidate) => candidate.files.some((f) => f.relPath === file.relPath));
  const framed = layer?.kind === 'large-file' && layer.frame !== undefined && layer.pinned === pin;
  cache.store(file.absPath, stampOf(stats), {
    sha256: file.sha256,
    size: file.size,
    ...(framed ? { layers: { [frameKey(layer.frame!.prefix, layer.frame!.suffix)]: digestHex(pin.diffID as Digest) } } : {}),
  });
  cache.markSeen(file.absPath, file.sha256);
}

/**
 * A path the lock names is written only inside the asset folder: lock keys are
 * checked when read (relative, no ".."), and here the nearest existing folder
 * above the file must resolve (symlinks followed) inside the asset folder.
 */
export async function assertInsideFolder(assetDir: string, absPath: string, lockFile: string, relPath: string): Promise<void> {
  const root = await realpath(assetDir);
  let dir = dirname(absPath);
  for (;;) {
    const real = await realpath(dir).catch(() => undefined);
    if (real !== undefined) {
      if (real !== root && !real.startsWith(root + sep)) {
        throw new AssetAbsentFilesError(
          lockFile,
          [relPath],
          `its folder resolves to ${real}, outside the asset folder; asset-pull never writes there`,
        );
      }
      return;
    }
    const parent = dirname(dir);
    if (parent === dir) return;
    dir = parent;
  }
}

/** The file at its place, checked against the lock while written; nothing half-written is left. */
async function writeVerified(file: AnalyzedFile, source: Readable): Promise<void> {
  const tap = new DigestingPassThrough();
  // A Git LFS pointer in the file's place is replaced by the rename.
  await writeStreamAtomic(file.absPath, source, {
    through: [tap],
    check: async () => {
      const actual = tap.digest().slice('sha256:'.length);
      const size = tap.size;
      if (actual !== file.sha256 || size !== file.size) {
        throw new DigestMismatchError(
          { what: file.relPath, expected: `sha256:${file.sha256}`, actual: `sha256:${actual}`, size, expectedSize: file.size },
          `${file.relPath} from the registry has ${size} bytes sha256 ${actual}, the lock pins ${file.size} bytes sha256 ${file.sha256}`,
        );
      }
    },
  });
  await chmod(file.absPath, file.mode & 0o7777).catch(async (error: unknown) => {
    await rm(file.absPath, { force: true });
    throw error;
  });
}
