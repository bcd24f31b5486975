// An image assembled in this process from a folder of files (no nx): the big file a layer of its own, the small
// files grouped in another, all under one folder of the image, as an asset build lays them out.
import * as path from 'node:path';
import { assembleImage } from '../../packages/nx-asset-images/src/oci/assemble-image';
import { compressLayer } from '../../packages/nx-asset-images/src/oci/compression';
import type { Compression } from '../../packages/nx-asset-images/src/oci/layer-codecs';
import type { Image } from '../../packages/nx-asset-images/src/oci/image';
import { groupedFilesLayer, singleFileLayer } from '../../packages/nx-asset-images/src/tar/file-layer';

export interface AssembledImageFiles {
  /** Relative path (in `src` and under `under`) of the file that gets a layer of its own. */
  big: string;
  /** Relative paths of the files grouped in the second layer. */
  small: readonly string[];
  /** Folder of the image the files go in, e.g. `models/bert`. */
  under: string;
}

export interface AssembledImageOptions {
  compression?: Compression;
  annotations?: Record<string, string>;
}

/** The image of `files` of the folder `src`: [big file layer, small files layer], compressed as asked (default none). */
export async function buildImage(src: string, files: AssembledImageFiles, options: AssembledImageOptions = {}): Promise<Image> {
  const big = await singleFileLayer({ sourcePath: path.join(src, files.big), path: `${files.under}/${files.big}` });
  const small = await groupedFilesLayer(files.small.map((p) => ({ sourcePath: path.join(src, p), path: `${files.under}/${p}` })));
  const layers = await Promise.all([big.layer, small].map((layer) => compressLayer(layer, options.compression ?? 'none')));
  return assembleImage({ layers, ...(options.annotations ? { annotations: options.annotations } : {}) });
}
