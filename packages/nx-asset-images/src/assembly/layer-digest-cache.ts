import { createHash } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline, Transform, type Readable, type TransformCallback } from 'node:stream';
import { isDigest } from '../oci/digest';
import type { Digest } from '../oci/image';
import { writeFileAtomic } from '../util/atomic-write';

export interface KnownBlob {
  digest: Digest;
  size: number;
}

/** What a cache entry said against what the bytes gave: the entry is corrected (or, with no `actual`, dropped). */
export class StaleLayerDigestError extends Error {
  override readonly name = 'StaleLayerDigestError';
  constructor(
    readonly key: string,
    readonly remembered: KnownBlob,
    /** Undefined when the bytes ran past the remembered size (not read to the end). */
    readonly actual: KnownBlob | undefined,
    readonly what: string,
  ) {
    super(
      `${what}: the layer digest cache remembered ${remembered.digest} (${remembered.size} bytes), but the bytes give ` +
        (actual
          ? `${actual.digest} (${actual.size} bytes); the entry is corrected`
          : `more than ${remembered.size} bytes; the entry is dropped`),
    );
  }
}

/**
 * Digests of layers that are a pure function of what the analysis already
 * knows, so a build does not read the bytes again to learn them:
 *   - a compressed layer, by its diffID and everything the compressed bytes
 *     depend on (codec, level, library version, settings: `compressionIdentity`);
 *   - a grouped small-files layer, by its entries' paths, modes, sizes, sha256
 *     values and mtime (re-read only when one of them changed).
 * One small file per entry under the store: concurrent builds never lose each
 * other's entries, and a corrupt or missing entry only means a recomputation.
 *
 * An entry is trusted when the image is assembled, and checked whenever the
 * layer's bytes are streamed (`guard`): one that turns out wrong is corrected
 * (or dropped) and counted in `staleEntries`, so the build can assemble the
 * image again with the right digest instead of failing.
 */
export class LayerDigestCache {
  /** Entries found wrong so far (by `guard`), most recent last. */
  readonly stale: StaleLayerDigestError[] = [];

  constructor(private readonly dir: string) {}

  private file(key: string): string {
    return join(this.dir, `${key}.json`);
  }

  async get(key: string): Promise<KnownBlob | undefined> {
    try {
      const value = JSON.parse(await readFile(this.file(key), 'utf8')) as { digest?: unknown; size?: unknown };
      if (isDigest(value.digest) && typeof value.size === 'number') {
        return { digest: value.digest, size: value.size };
      }
    } catch {
      // missing or unreadable: treat as absent
    }
    return undefined;
  }

  async set(key: string, known: KnownBlob): Promise<void> {
    await writeFileAtomic(this.file(key), JSON.stringify(known));
  }

  async delete(key: string): Promise<void> {
    await rm(this.file(key), { force: true });
  }

  /** How many entries `guard` found wrong so far. */
  get staleEntries(): number {
    return this.stale.length;
  }

  /**
   * `source` (the bytes of a layer whose digest came from entry `key`) passed
   * through unchanged, hashed on the way. The last chunk is held back until the
   * end: when the bytes do not give `known`, the entry is corrected (dropped when
   * they run past its size), and the stream fails with a StaleLayerDigestError
   * instead of completing, so no consumer ever takes the wrong bytes for `known`.
   */
  guard(key: string, known: KnownBlob, source: Readable, what: string): Readable {
    const hash = createHash('sha256');
    let size = 0;
    let held: Buffer | undefined;
    const fail = (actual: KnownBlob | undefined): StaleLayerDigestError => {
      const error = new StaleLayerDigestError(key, known, actual, what);
      this.stale.push(error);
      return error;
    };
    const check = new Transform({
      transform: (chunk: Buffer, _encoding, callback: TransformCallback) => {
        hash.update(chunk);
        size += chunk.length;
        if (size > known.size) {
          const error = fail(undefined);
          this.delete(key).then(
            () => callback(error),
            () => callback(error),
          );
          return;
        }
        const out = held;
        held = chunk;
        callback(null, out);
      },
      flush: (callback: TransformCallback) => {
        const actual: KnownBlob = { digest: `sha256:${hash.digest('hex')}`, size };
        if (actual.digest === known.digest && size === known.size) return callback(null, held);
        // The bytes just streamed are what a recomputation would give: remember them instead.
        const error = fail(actual);
        this.set(key, actual).then(
          () => callback(error),
          () =>
            this.delete(key).then(
              () => callback(error),
              () => callback(error),
            ),
        );
      },
    });
    return pipeline(source, check, () => {
      // Errors surface on the returned stream.
    });
  }
}
