/**
 * The layer codecs, one row each: the name asset.json and the lock say
 * (`compression`), the OCI media type of a layer it compresses, how Node.js
 * compresses and decompresses it, and whether this Node.js can. The one list
 * of codecs: asset.json's schema enum (a unit test holds them equal), the
 * manifest, the lock, the build, asset-pull and the docker-load path read it.
 */
import { Transform, type TransformCallback } from 'node:stream';
import * as zlib from 'node:zlib';
import { MEDIA_TYPE_OCI_LAYER, MEDIA_TYPE_OCI_LAYER_GZIP, MEDIA_TYPE_OCI_LAYER_ZSTD } from './media-types';

export type Compression = 'none' | 'gzip' | 'zstd';

/** gzip level used unless told otherwise. Changing it changes every gzip layer digest. */
export const DEFAULT_GZIP_LEVEL = 6;
/** zstd level used unless told otherwise. Changing it changes every zstd layer digest. */
export const DEFAULT_ZSTD_LEVEL = 3;

export interface LayerCodec {
  readonly name: Compression;
  /** The media type of a layer compressed with it (OCI). */
  readonly mediaType: string;
  /** The library that makes the bytes, as `process.versions` names it (`zlib`, `zstd`); undefined for `none`. */
  readonly library?: string;
  /** The level it compresses at unless told otherwise; undefined for `none`. */
  readonly defaultLevel?: number;
  /** The fixed settings the compressed bytes depend on besides level and library (see compressionIdentity). */
  readonly settings?: Readonly<Record<string, number>>;
  /** Whether this Node.js has the codec (zstd: Node.js 22.15+, 24, 26; not 20). */
  isAvailable(): boolean;
  /** The compressor transforms at `level` (the codec's default when undefined), in order; empty for `none`. */
  compress(level?: number): Transform[];
  /** The decompressor transforms; empty for `none`. */
  decompress(): Transform[];
}

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

type ZstdFactory = (options?: { params?: Record<number, number> }) => Transform;

/** Node's zstd stream factory (`createZstdCompress`, `createZstdDecompress`); throws where Node lacks zstd. */
function zstdFactory(name: 'createZstdCompress' | 'createZstdDecompress'): ZstdFactory {
  const candidate = (zlib as unknown as Record<string, ZstdFactory | undefined>)[name];
  if (typeof candidate !== 'function') throw new CompressionUnavailableError('zstd');
  return candidate;
}

const NONE: LayerCodec = {
  name: 'none',
  mediaType: MEDIA_TYPE_OCI_LAYER,
  isAvailable: () => true,
  compress: () => [],
  decompress: () => [],
};

const GZIP: LayerCodec = {
  name: 'gzip',
  mediaType: MEDIA_TYPE_OCI_LAYER_GZIP,
  library: 'zlib',
  defaultLevel: DEFAULT_GZIP_LEVEL,
  settings: { ...GZIP_SETTINGS, osByte: 255 },
  isAvailable: () => true,
  compress: (level = DEFAULT_GZIP_LEVEL) => [zlib.createGzip({ ...GZIP_SETTINGS, level }), new GzipHeaderNormalizer()],
  decompress: () => [zlib.createGunzip()],
};

const ZSTD: LayerCodec = {
  name: 'zstd',
  mediaType: MEDIA_TYPE_OCI_LAYER_ZSTD,
  library: 'zstd',
  defaultLevel: DEFAULT_ZSTD_LEVEL,
  settings: { checksumFlag: 0 },
  isAvailable: () => typeof (zlib as unknown as { createZstdCompress?: unknown }).createZstdCompress === 'function',
  compress: (level = DEFAULT_ZSTD_LEVEL) => {
    const factory = zstdFactory('createZstdCompress');
    const constants = zlib.constants as unknown as Record<string, number>;
    const params: Record<number, number> = {};
    if (constants.ZSTD_c_compressionLevel !== undefined) params[constants.ZSTD_c_compressionLevel] = level;
    if (constants.ZSTD_c_checksumFlag !== undefined) params[constants.ZSTD_c_checksumFlag] = 0;
    return [factory({ params })];
  },
  decompress: () => [zstdFactory('createZstdDecompress')()],
};

/** Every codec, in the order asset.json's schema lists them. */
export const LAYER_CODECS: readonly LayerCodec[] = [NONE, GZIP, ZSTD];

/** The codec names: `none`, `gzip`, `zstd`. */
export const COMPRESSIONS: readonly Compression[] = LAYER_CODECS.map((codec) => codec.name);

export function isCompression(value: unknown): value is Compression {
  return LAYER_CODECS.some((codec) => codec.name === value);
}

export function layerCodec(compression: Compression): LayerCodec {
  return LAYER_CODECS.find((codec) => codec.name === compression)!;
}

/**
 * The codec of a layer of `mediaType`: the OCI (`…tar+gzip`) or Docker
 * (`…tar.gzip`) spelling of a codec's name at its end; else `none`.
 */
export function layerCodecOf(mediaType: string): LayerCodec {
  return (
    LAYER_CODECS.find((codec) => codec !== NONE && (mediaType.endsWith(`+${codec.name}`) || mediaType.endsWith(`.${codec.name}`))) ?? NONE
  );
}

export function isCompressionAvailable(compression: Compression): boolean {
  return layerCodec(compression).isAvailable();
}

export function layerMediaType(compression: Compression): string {
  return layerCodec(compression).mediaType;
}
