import { createHash } from 'node:crypto';
import { pipeline, type Readable, Transform, type TransformCallback } from 'node:stream';
import * as zlib from 'node:zlib';
import type { Digest, Layer } from './image';
import { MEDIA_TYPE_OCI_LAYER, MEDIA_TYPE_OCI_LAYER_GZIP, MEDIA_TYPE_OCI_LAYER_ZSTD } from './media-types';

export type Compression = 'none' | 'gzip' | 'zstd';

export const COMPRESSIONS: readonly Compression[] = ['none', 'gzip', 'zstd'];

/** gzip level used unless told otherwise. Changing it changes every gzip layer digest. */
export const DEFAULT_GZIP_LEVEL = 6;
/** zstd level used unless told otherwise. Changing it changes every zstd layer digest. */
export const DEFAULT_ZSTD_LEVEL = 3;

export class CompressionUnavailableError extends Error {
  override readonly name = 'CompressionUnavailableError';
  constructor(
    readonly compression: Compression,
    readonly nodeVersion: string = process.version,
  ) {
    super(
      `${compression} layer compression needs zlib.createZstdCompress (Node.js 22.15+ or 24); this is Node.js ${nodeVersion}. ` +
        `Use "compression": "gzip" or "none", or upgrade Node.js.`,
    );
  }
}

export interface CompressionOptions {
  /** gzip 1..9 (default 6); zstd level (default 3). */
  level?: number;
}

/** The level `compression` compresses at with `options` (undefined for `none`). */
export function compressionLevel(compression: Compression, options: CompressionOptions = {}): number | undefined {
  if (compression === 'none') return undefined;
  return options.level ?? (compression === 'gzip' ? DEFAULT_GZIP_LEVEL : DEFAULT_ZSTD_LEVEL);
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
  if (compression === 'none') return undefined;
  const name = compression === 'gzip' ? 'zlib' : 'zstd';
  const version = (versions as Record<string, string | undefined>)[name];
  return `${name} ${version ?? `of Node.js ${nodeVersion}`}`;
}

type ZstdFactory = (options?: { params?: Record<number, number> }) => Transform;

function zstdFactory(): ZstdFactory | undefined {
  const candidate = (zlib as unknown as { createZstdCompress?: ZstdFactory }).createZstdCompress;
  return typeof candidate === 'function' ? candidate : undefined;
}

export function isCompressionAvailable(compression: Compression): boolean {
  return compression !== 'zstd' || zstdFactory() !== undefined;
}

export function layerMediaType(compression: Compression): string {
  switch (compression) {
    case 'none':
      return MEDIA_TYPE_OCI_LAYER;
    case 'gzip':
      return MEDIA_TYPE_OCI_LAYER_GZIP;
    case 'zstd':
      return MEDIA_TYPE_OCI_LAYER_ZSTD;
  }
}

/**
 * Node's gzip header is already free of a timestamp and a file name
 * (`1f8b 08 00 00000000 <xfl> <os>`), but its OS byte is the one zlib was
 * built for (3 on Unix, 10 on Windows). Set it to 255 ("unknown", as Go's
 * compress/gzip writes) so the bytes do not depend on the build platform.
 */
class GzipHeaderNormalizer extends Transform {
  private seen = 0;
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.seen <= 9 && this.seen + chunk.length > 9) {
      chunk = Buffer.from(chunk);
      chunk[9 - this.seen] = 0xff;
    }
    this.seen += chunk.length;
    callback(null, chunk);
  }
}

/** zlib's defaults, spelled out: they are part of what the gzip bytes depend on (see compressionIdentity). */
const GZIP_SETTINGS = { windowBits: 15, memLevel: 8, strategy: zlib.constants.Z_DEFAULT_STRATEGY } as const;

/**
 * Bump when the compressor chain below changes in a way that changes its output
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
  return compression === 'gzip'
    ? { ...common, windowBits: GZIP_SETTINGS.windowBits, memLevel: GZIP_SETTINGS.memLevel, strategy: GZIP_SETTINGS.strategy, osByte: 255 }
    : { ...common, checksumFlag: 0 };
}

/** The compressor transforms for `compression`, in order (empty for `none`). */
function compressorChain(compression: Compression, options: CompressionOptions): Transform[] {
  switch (compression) {
    case 'none':
      return [];
    case 'gzip':
      return [zlib.createGzip({ ...GZIP_SETTINGS, level: compressionLevel('gzip', options)! }), new GzipHeaderNormalizer()];
    case 'zstd': {
      const factory = zstdFactory();
      if (!factory) throw new CompressionUnavailableError('zstd');
      const constants = zlib.constants as unknown as Record<string, number>;
      const params: Record<number, number> = {};
      if (constants.ZSTD_c_compressionLevel !== undefined) params[constants.ZSTD_c_compressionLevel] = compressionLevel('zstd', options)!;
      if (constants.ZSTD_c_checksumFlag !== undefined) params[constants.ZSTD_c_checksumFlag] = 0;
      return [factory({ params })];
    }
  }
}

/**
 * Streams `source` compressed, deterministically: the same input bytes give
 * the same output bytes however the input is chunked (nothing is flushed
 * before the end), given the same zlib/zstd library version and level.
 * Errors of the source or the compressor destroy the returned stream.
 */
export function compressStream(source: Readable, compression: Compression, options: CompressionOptions = {}): Readable {
  const chain = compressorChain(compression, options);
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
  if (compression !== 'none' && !isCompressionAvailable(compression)) throw new CompressionUnavailableError(compression);
  return {
    descriptor: { ...layer.descriptor, mediaType: layerMediaType(compression), digest: known.digest, size: known.size },
    diffId: layer.diffId,
    open: () => compressStream(layer.open(), compression, options),
  };
}
