import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Digest, Image } from '../oci/image';
import type { ImageIndex } from '../oci/image-index';
import { formatPlatform, platformKey, tryParsePlatform, type Platform } from '../oci/platform';
import { compressionLevel, compressionLibrary } from '../oci/compression';
import type { Compression } from '../oci/layer-codecs';
import { writeFileAtomic } from '../util/atomic-write';
import type { AssetAnalysis } from './analyze-asset';
import type { AssetReferences } from './image-references';
import { DEFAULT_LARGE_FILE_THRESHOLD } from './layer-plan';

export const ASSET_IMAGE_RESULT_FILE = 'image.json';

/**
 * What the image's bytes depend on besides the files and asset.json: a rebuild
 * from the sources (a cache hit, docker-build, asset-push) must use exactly these
 * to give the recorded digests, whatever the environment or target says then.
 */
export interface AssetBuildParameters {
  /** Seconds since the epoch of every tar entry and of the config's `created` (SOURCE_DATE_EPOCH of the build; 0 when unset). */
  mtime: number;
  /** `os/architecture[/variant]` of the config. */
  platform: string;
  /** Files of at least this many bytes got a layer of their own. */
  largeFileThreshold: number;
  /**
   * The codec (from asset.json), its level, and the library that compressed (e.g. `zlib 1.3.1`):
   * another library version may compress to other bytes, which the rebuild then reports.
   */
  compression: { codec: Compression; level?: number; library?: string };
}

/** The small result of an asset build: what Nx caches instead of the layers' bytes. */
export interface AssetImageResult {
  version: 1;
  project: string;
  /** Repository as written in asset.json. */
  image: string;
  manifestDigest: Digest;
  configDigest: Digest;
  tags: string[];
  contentTag: string;
  references: string[];
  size: number;
  layers: { digest: Digest; diffId: Digest; size: number; mediaType: string; files: string[] }[];
  /** Absent in an image.json written before they were recorded: a rebuild then uses today's settings. */
  build?: AssetBuildParameters;
  /**
   * A multi-platform build: `manifestDigest` is then the index's (the asset's
   * digest, the one its content tag derives from) and `configDigest` the
   * first platform's; each platform's manifest and config here, in index order.
   */
  platforms?: PlatformResult[];
}

export interface PlatformResult {
  /** `os/architecture[/variant]` */
  platform: string;
  manifestDigest: Digest;
  configDigest: Digest;
}

export interface BuildParameterInputs {
  mtime?: number;
  platform?: Platform;
  largeFileThreshold?: number;
  compression: Compression;
  compressionLevel?: number;
}

/** The parameters a build ran with, defaults filled in (so a later change of a default does not change what a rebuild uses). */
export function assetBuildParameters(inputs: BuildParameterInputs): AssetBuildParameters {
  const platform = inputs.platform ?? { os: 'linux', architecture: 'amd64' };
  const level = compressionLevel(inputs.compression, inputs.compressionLevel !== undefined ? { level: inputs.compressionLevel } : {});
  const library = compressionLibrary(inputs.compression);
  return {
    mtime: inputs.mtime ?? 0,
    platform: formatPlatform(platform),
    largeFileThreshold: inputs.largeFileThreshold ?? DEFAULT_LARGE_FILE_THRESHOLD,
    compression: { codec: inputs.compression, ...(level !== undefined ? { level } : {}), ...(library !== undefined ? { library } : {}) },
  };
}

export function assetImageResult(
  analysis: AssetAnalysis,
  image: Image,
  refs: AssetReferences,
  build?: AssetBuildParameters,
): AssetImageResult {
  return {
    version: 1,
    project: analysis.manifest.name,
    image: analysis.manifest.image,
    manifestDigest: image.manifest.descriptor.digest,
    configDigest: image.config.descriptor.digest,
    tags: refs.tags,
    contentTag: refs.contentTag,
    references: refs.references,
    size: image.layers.reduce((sum, layer) => sum + layer.descriptor.size, 0),
    layers: image.layers.map((layer, index) => ({
      digest: layer.descriptor.digest,
      diffId: layer.diffId,
      size: layer.descriptor.size,
      mediaType: layer.descriptor.mediaType,
      files: analysis.layers[index]!.files.map((file) => file.imagePath),
    })),
    ...(build ? { build } : {}),
  };
}

/** The result of a multi-platform build: the index's digest, every platform's manifest and config (the layers are shared). */
export function assetImageIndexResult(
  analysis: AssetAnalysis,
  index: ImageIndex,
  refs: AssetReferences,
  build?: AssetBuildParameters,
): AssetImageResult {
  const first = assetImageResult(analysis, index.images[0]!.image, refs, build);
  return {
    ...first,
    manifestDigest: index.index.descriptor.digest,
    platforms: index.images.map(({ platform, image }) => ({
      platform: platformKey(platform),
      manifestDigest: image.manifest.descriptor.digest,
      configDigest: image.config.descriptor.digest,
    })),
  };
}

/**
 * The digests Docker holds one variant by: for a multi-platform result the
 * wanted platform's manifest and config (undefined when the build lacks that
 * platform); a single-platform result as it is.
 */
export function variantOf(
  result: AssetImageResult,
  platform: string,
): Pick<AssetImageResult, 'manifestDigest' | 'configDigest'> | undefined {
  if (!result.platforms) return result;
  const wanted = tryParsePlatform(platform);
  const entry = wanted && result.platforms.find((p) => p.platform === platformKey(wanted));
  return entry ? { manifestDigest: entry.manifestDigest, configDigest: entry.configDigest } : undefined;
}

export async function writeAssetImageResult(dir: string, result: AssetImageResult): Promise<void> {
  await writeFileAtomic(join(dir, ASSET_IMAGE_RESULT_FILE), `${JSON.stringify(result, null, 2)}\n`);
}

export async function readAssetImageResult(dir: string): Promise<AssetImageResult | undefined> {
  try {
    return JSON.parse(await readFile(join(dir, ASSET_IMAGE_RESULT_FILE), 'utf8')) as AssetImageResult;
  } catch {
    return undefined;
  }
}
