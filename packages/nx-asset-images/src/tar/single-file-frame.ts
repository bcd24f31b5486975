import { Readable } from 'node:stream';
import { END_OF_ARCHIVE, paddingFor } from './tar-header';
import { normalizeTarEntries, type TarFileEntry, type TarOptions } from './tar-entries';
import { headerFor, streamExactly } from './tar-stream';

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
