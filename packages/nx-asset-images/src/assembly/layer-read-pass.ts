/**
 * One read per byte of an asset's planned layers: each file is read once, and from that read come its sha256
 * (the lock, the stat cache), its layer's tar bytes and the layer digest, which go into a sink as they are
 * made. Two sinks: `docker load` while it is fed (`StreamedDockerLoad`, asset-image/streamed-load.ts), and
 * one that only hashes (`digestSink`), for the content key's pass over small-file groups
 * (`groupDigestHashPass`): the build that follows then knows every group's digest without reading again.
 *
 * The group digests go into the layer digest cache only after every file is found still as the scan
 * stat'ed it (else FilesChangedWhileStreamedError, and nothing is remembered).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import type { PlannedLayer } from '../asset/layer-plan';
import {
  hashCounters,
  cachedHash,
  rememberHash,
  statStampSync,
  type FileHash,
  type HashFilesOptions,
  type HashInputFile,
} from '../hashing/hasher';
import { sameStamp } from '../hashing/stat-cache';
import { tarLayout, WHOLE_READ_MAX_BYTES } from '../tar/tar-stream';
import { readAhead } from '../util/read-ahead';
import { digestExactly } from '../oci/digest';
import { groupLayerKey } from './build-asset-image';
import type { KnownBlob, LayerDigestCache } from './layer-digest-cache';

/** Files that changed between the scan and the end of their read: the bytes carried may be neither version. */
export class FilesChangedWhileStreamedError extends Error {
  override readonly name = 'FilesChangedWhileStreamedError';
  constructor(readonly files: readonly string[]) {
    super(
      `${files.length} file(s) changed while they were read into their layers (${files.slice(0, 3).join(', ')}${files.length > 3 ? ', ...' : ''})`,
    );
  }
}

/** Where the layers' bytes go: exactly `size` bytes each; the digest is the sha256 of what it got. */
export interface LayerSink {
  writeLayer(size: number, bytes: AsyncIterable<Uint8Array> | Readable): Promise<KnownBlob>;
}

/** The size the sink was told against the bytes it got. */
export class LayerSizeError extends Error {
  override readonly name = 'LayerSizeError';
  constructor(
    readonly expected: number,
    readonly actual: number,
  ) {
    super(`layer bytes: expected ${expected}, got ${actual}${actual > expected ? ' or more' : ''}`);
  }
}

/** A sink that keeps nothing: the digest and size of each layer. */
export function digestSink(): LayerSink {
  return {
    async writeLayer(size, bytes) {
      return { digest: await digestExactly(bytes, size, (actual) => new LayerSizeError(size, actual)), size };
    },
  };
}

export interface LayerReadOptions {
  /** SOURCE_DATE_EPOCH of the tar entries (the build's). */
  mtime: number;
  layerDigests: LayerDigestCache;
}

/**
 * Reads every file of `plan` once (each planned file must be among `files`, with the scan's stat) into its
 * layer's bytes, in plan order, into `sink`; returns each file's hashes, in `files` order. Files the stat cache
 * answers for are read for their layer, not hashed again; a large file's framed digest is the sink's.
 */
export async function readLayersOnce(
  sink: LayerSink,
  files: readonly HashInputFile[],
  hashOptions: HashFilesOptions,
  plan: readonly PlannedLayer[],
  options: LayerReadOptions,
): Promise<FileHash[]> {
  const byRelPath = new Map(files.map((file) => [file.relPath!, file]));
  const sha256 = new Map<string, string>();
  // Files the stat cache answers for (the content key hashed them) are read for their layer, not hashed again.
  const known = new Map<string, string>();
  for (const file of files) {
    const cached = cachedSha256(file, hashOptions);
    if (cached !== undefined) known.set(file.relPath!, cached);
  }
  const onHash = (file: HashInputFile) => (known.has(file.relPath!) ? undefined : (hex: string) => sha256.set(file.relPath!, hex));
  const framed = new Map<string, string>();
  const groups: [string, KnownBlob][] = [];
  const report = (file: HashInputFile, bytes: number) => hashOptions.onProgress?.({ label: file.relPath!, bytes, total: file.size });
  for (const layer of plan) {
    const inputs = layer.files.map((f) => byRelPath.get(f.relPath)!);
    if (layer.kind === 'large-file') {
      const file = inputs[0]!;
      const frame = file.frame!;
      const content = hashedRead(file, onHash(file), report);
      const written = await sink.writeLayer(frame.prefix.length + file.size + frame.suffix.length, framedBytes(frame, content));
      framed.set(file.relPath!, written.digest.slice('sha256:'.length));
      continue;
    }
    const ahead = readAhead(inputs.map((f) => (f.size <= WHOLE_READ_MAX_BYTES ? { path: f.absPath, size: f.size } : undefined)));
    const entries = layer.files.map((planned, i) => {
      const file = inputs[i]!;
      return {
        path: planned.imagePath,
        mode: planned.mode,
        size: planned.size,
        open: () => Readable.from(hashedRead(file, onHash(file), report)),
        read: async () => {
          const bytes = await ahead(i);
          const done = onHash(file);
          if (done) {
            done(createHash('sha256').update(bytes).digest('hex'));
            countRead(bytes.length);
          }
          report(file, bytes.length);
          return bytes;
        },
      };
    });
    const tar = tarLayout(entries, { mtime: options.mtime });
    const written = await sink.writeLayer(tar.size, tar.chunks());
    const key = groupLayerKey(
      options.mtime,
      layer.files.map((f) => ({ ...f, sha256: known.get(f.relPath) ?? sha256.get(f.relPath)! })),
    );
    groups.push([key, { digest: written.digest, size: written.size }]);
  }
  // Read and carried: each file must still be what the scan stat'ed, or the bytes may be neither version.
  const changed = files.filter((file) => !sameStamp(statStampSync(file.absPath).stamp, file.stamped!.stamp)).map((f) => f.relPath!);
  if (changed.length > 0) throw new FilesChangedWhileStreamedError(changed);
  // Only now: a group read while one of its files changed must not be remembered under its files' hashes.
  for (const [key, blob] of groups) await options.layerDigests.set(key, blob);
  return files.map((file) => {
    const cached = known.get(file.relPath!);
    const hex = cached ?? sha256.get(file.relPath!)!;
    const layerHex = framed.get(file.relPath!);
    if (cached === undefined)
      rememberHash(file, file.stamped!, { sha256: hex, size: file.size, ...(layerHex ? { framedSha256: layerHex } : {}) }, hashOptions);
    const result: FileHash = { absPath: file.absPath, sha256: hex, size: file.size, fromCache: cached !== undefined };
    if (layerHex) result.layerDigest = `sha256:${layerHex}`;
    return result;
  });
}

/** The file's sha256 when the stat cache answers for it as scanned (with its layer digest, for a large file). */
export function cachedSha256(file: HashInputFile, hashOptions: HashFilesOptions): string | undefined {
  return file.stamped ? cachedHash(file, file.stamped.stamp, hashOptions.cache)?.sha256 : undefined;
}

/** Counts a read that hashed a file (`hashCounters`); a known file read only for its layer is not counted, as a load's reads are not. */
function countRead(bytes: number): void {
  hashCounters.filesOpened++;
  hashCounters.bytesRead += bytes;
}

/** The file's chunks, hashed on the way; `done` gets the hex sha256 at the end. */
async function* hashedRead(
  file: HashInputFile,
  done: ((hex: string) => void) | undefined,
  report: (file: HashInputFile, bytes: number) => void,
): AsyncGenerator<Buffer> {
  const hash = done ? createHash('sha256') : undefined;
  let bytes = 0;
  for await (const chunk of createReadStream(file.absPath, { highWaterMark: 1024 * 1024 })) {
    const buffer = chunk as Buffer;
    hash?.update(buffer);
    bytes += buffer.length;
    report(file, bytes);
    yield buffer;
  }
  if (done) {
    countRead(bytes);
    done(hash!.digest('hex'));
  }
}

async function* framedBytes(frame: { prefix: Buffer; suffix: Buffer }, content: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  yield frame.prefix;
  yield* content;
  yield frame.suffix;
}
