import { createHash } from 'node:crypto';
import { pipeline, type Readable, type Transform } from 'node:stream';
import type { Digest, Layer } from './image';
import { type Compression, CompressionUnavailableError, layerCodec } from './layer-codecs';

export interface CompressionOptions {
  /** gzip 1..9 (default 6); zstd level (default 3). */
  level?: number;
}

/** The level `compression` compresses at with `options` (undefined for `none`). */
export function compressionLevel(compression: Compression, options: CompressionOptions = {}): number | undefined {
  const { defaultLevel } = layerCodec(compression);
  return defaultLevel === undefined ? undefined : (options.level ?? defaultLevel);
}

/**
 * The library (and version) that makes the compressed bytes, e.g. `zlib 1.3.1` or
 * `zstd 1.5.7`: another version may compress the same input to other bytes. When
 * Node.js does not say (`process.versions.zstd` is recent), the Node.js version stands
 * in, since the library is the one bundled with it. Undefined for `none`.
 */
export function compressionLibrary(
  compression: Compression,
  versions: NodeJS.ProcessVersions = process.versions,
  nodeVersion: string = process.version,
): string | undefined {
  const name = layerCodec(compression).library;
  if (name === undefined) return undefined;
  const version = (versions as Record<string, string | undefined>)[name];
  return `${name} ${version ?? `of Node.js ${nodeVersion}`}`;
}

/**
 * Bump when a codec's compressor chain (layer-codecs.ts) changes in a way that changes its output
 * (a header tweak, a parameter): digests remembered for the old output are then not reused.
 */
const COMPRESSOR_FORMAT = 1;

/**
 * Everything the compressed bytes of a given input depend on: codec, level, the
 * library and its version (CI runs several Node.js versions, each with its own
 * zlib and zstd), the fixed settings and this code's format. Two equal identities
 * compress equal input to equal bytes. Undefined for `none`.
 */
export function compressionIdentity(
  compression: Compression,
  options: CompressionOptions = {},
  versions: NodeJS.ProcessVersions = process.versions,
  nodeVersion: string = process.version,
): Record<string, string | number> | undefined {
  if (compression === 'none') return undefined;
  const common = {
    codec: compression,
    level: compressionLevel(compression, options)!,
    library: compressionLibrary(compression, versions, nodeVersion)!,
    format: COMPRESSOR_FORMAT,
  };
  return { ...common, ...layerCodec(compression).settings };
}

/**
 * Streams `source` compressed, deterministically: the same input bytes give
 * the same output bytes however the input is chunked (nothing is flushed
 * before the end), given the same zlib/zstd library version and level.
 * Errors of the source or the compressor destroy the returned stream.
 */
export function compressStream(source: Readable, compression: Compression, options: CompressionOptions = {}): Readable {
  const chain = layerCodec(compression).compress(options.level);
  if (chain.length === 0) return source;
  return pipeline([source, ...chain] as unknown as [Readable, Transform], () => {
    // Errors surface on the returned stream; nothing else to do here.
  }) as unknown as Readable;
}

/**
 * A compressed view of an uncompressed layer. Reads and compresses the layer
 * once to learn the compressed digest and size (no bytes are kept); every
 * `open()` then compresses again on the fly, which gives the same bytes.
 * The diffID stays the digest of the uncompressed tar.
 */
export async function compressLayer(layer: Layer, compression: Compression, options: CompressionOptions = {}): Promise<Layer> {
  if (compression === 'none') return layer;
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of compressStream(layer.open(), compression, options)) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return compressedLayer(layer, compression, { digest: `sha256:${hash.digest('hex')}`, size }, options);
}

/** A compressed layer whose compressed digest and size are already known (e.g. from a cache). */
export function compressedLayer(
  layer: Layer,
  compression: Compression,
  known: { digest: Digest; size: number },
  options: CompressionOptions = {},
): Layer {
  const codec = layerCodec(compression);
  if (!codec.isAvailable()) throw new CompressionUnavailableError(compression);
  return {
    descriptor: { ...layer.descriptor, mediaType: codec.mediaType, digest: known.digest, size: known.size },
    diffId: layer.diffId,
    open: () => compressStream(layer.open(), compression, options),
  };
}
