/**
 * The image model every transport consumes. Pure types: no fs, no Nx.
 *
 * A built image is small metadata (manifest, config) plus layers whose bytes
 * are produced on demand: a layer may be a small tar held in memory or in the
 * store, or a large tar framed around a source file and streamed from it.
 * Transports (OCI layout, docker-load archive, registry) are sinks that take
 * an `Image` and pull the bytes they need through `open()`.
 */
import type { Readable } from 'node:stream';

/** `sha256:<64 lowercase hex>` */
export type Digest = `sha256:${string}`;

export interface Descriptor {
  mediaType: string;
  digest: Digest;
  size: number;
  annotations?: Record<string, string>;
  platform?: { architecture: string; os: string; variant?: string };
}

/** A blob whose bytes are known in full (manifest, config, small layers). */
export interface BytesBlob {
  descriptor: Descriptor;
  bytes: Buffer;
}

/** A layer: its descriptor (digest of the possibly-compressed blob), its diffID (digest of the uncompressed tar) and a way to stream its blob bytes. */
export interface Layer {
  descriptor: Descriptor;
  diffId: Digest;
  /** Streams exactly `descriptor.size` bytes whose sha256 is `descriptor.digest`. Each call returns a new stream. */
  open(): Readable;
}

export interface Image {
  manifest: BytesBlob;
  config: BytesBlob;
  layers: readonly Layer[];
}
