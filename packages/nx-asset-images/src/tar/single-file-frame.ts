import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Digest } from '../oci/image';
import { END_OF_ARCHIVE, paddingFor } from './tar-header';
import { normalizeTarEntries, type TarFileEntry, type TarOptions } from './tar-entries';
import { headerFor, streamExactly, TarEntrySizeMismatchError } from './tar-stream';

/** The tar of a single-file layer is `prefix ‖ file bytes ‖ suffix`. */
export interface SingleFileFrame {
  /** Parent directory headers and the file's header. */
  prefix: Buffer;
  /** Padding to a block boundary and the end-of-archive marker. */
  suffix: Buffer;
  /** Size of the file inside the frame. */
  fileSize: number;
  /** Total tar size: prefix + fileSize + suffix. */
  size: number;
}

/** What a single-file frame needs: no `open()`, the bytes come from elsewhere. */
export type FramedFile = Omit<TarFileEntry, 'open'>;

/**
 * Frames one file as a tar, byte-identical to `tarStream([entry], options)`,
 * so the layer digest can be computed in the same read as the file's own
 * sha256, and the layer can be streamed straight from the source file.
 */
export function singleFileFrame(entry: FramedFile, options: TarOptions = {}): SingleFileFrame {
  const mtime = options.mtime ?? 0;
  const records = normalizeTarEntries([{ ...entry, open: () => Readable.from([]) }]);
  const prefix = Buffer.concat(records.map((record) => headerFor(record, mtime)));
  const suffix = Buffer.concat([Buffer.alloc(paddingFor(entry.size)), END_OF_ARCHIVE]);
  return { prefix, suffix, fileSize: entry.size, size: prefix.length + entry.size + suffix.length };
}

/**
 * A layer `open()` for a frame: each call streams prefix, a fresh read of the
 * file (checked to have exactly `fileSize` bytes) and suffix.
 */
export function frameLayer(frame: SingleFileFrame, openFile: () => Readable, label = 'framed file'): () => Readable {
  return () =>
    Readable.from(
      (async function* () {
        yield frame.prefix;
        yield* streamExactly(label, frame.fileSize, openFile());
        yield frame.suffix;
      })(),
      { objectMode: false },
    );
}

export interface FrameDigests {
  /** sha256 of the file alone (what `asset.lock.json` pins). */
  fileDigest: Digest;
  /** sha256 of `prefix ‖ file ‖ suffix`: the uncompressed layer's digest (its diffID, and its blob digest when uncompressed). */
  layerDigest: Digest;
  /** Total layer size. */
  size: number;
}

/** Computes the file's and the layer's sha256 in one read of `file`. */
export async function digestFrame(frame: SingleFileFrame, file: AsyncIterable<Uint8Array>, label = 'framed file'): Promise<FrameDigests> {
  const fileHash = createHash('sha256');
  const layerHash = createHash('sha256').update(frame.prefix);
  let seen = 0;
  for await (const chunk of file) {
    fileHash.update(chunk);
    layerHash.update(chunk);
    seen += chunk.length;
  }
  if (seen !== frame.fileSize) throw new TarEntrySizeMismatchError(label, frame.fileSize, seen);
  layerHash.update(frame.suffix);
  return { fileDigest: `sha256:${fileHash.digest('hex')}`, layerDigest: `sha256:${layerHash.digest('hex')}`, size: frame.size };
}
