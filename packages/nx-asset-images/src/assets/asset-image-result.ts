import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Digest, Image } from '../oci/image';
import { writeFileAtomic } from '../util/atomic-write';
import type { AssetAnalysis } from './analyze-asset';
import type { AssetReferences } from './image-references';

export const ASSET_IMAGE_RESULT_FILE = 'image.json';

/** Where an asset project's small build result (digests, tags) lives, workspace-relative; this is the Nx-cached output. */
export function assetResultDir(projectName: string): string {
  return `dist/asset-images/${projectName}`;
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
}

export function assetImageResult(analysis: AssetAnalysis, image: Image, refs: AssetReferences): AssetImageResult {
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
  };
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
