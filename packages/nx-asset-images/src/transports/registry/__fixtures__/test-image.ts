/** Small hand-made images for tests: layers held in memory, digests by node:crypto. */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Digest, Image, Layer } from '../../../oci/image';
import { MEDIA_TYPE_OCI_CONFIG, MEDIA_TYPE_OCI_LAYER, MEDIA_TYPE_OCI_MANIFEST } from '../../../oci/media-types';

export const sha256 = (bytes: Buffer): Digest => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

export function bytesLayer(bytes: Buffer, options: { lie?: Buffer; chunk?: number } = {}): Layer {
  const digest = sha256(bytes);
  const served = options.lie ?? bytes;
  const chunk = options.chunk ?? 64 * 1024;
  return {
    descriptor: { mediaType: MEDIA_TYPE_OCI_LAYER, digest, size: bytes.length },
    diffId: digest,
    open: () => Readable.from(splitBuffer(served, chunk)),
  };
}

function splitBuffer(buffer: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < buffer.length; i += size) out.push(buffer.subarray(i, i + size));
  return out;
}

/** Deterministic pseudo-random bytes (mulberry32). */
export function seededBytes(length: number, seed: number): Buffer {
  const out = Buffer.alloc(length);
  let a = seed >>> 0;
  for (let i = 0; i < length; i += 4) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const v = (t ^ (t >>> 14)) >>> 0;
    for (let j = 0; j < 4 && i + j < length; j++) out[i + j] = (v >>> (8 * j)) & 0xff;
  }
  return out;
}

export function makeImage(layers: Layer[], label = 'test'): Image {
  const configBytes = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      created: '1970-01-01T00:00:00Z',
      config: { Labels: { label } },
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
    }),
  );
  const config = {
    descriptor: { mediaType: MEDIA_TYPE_OCI_CONFIG, digest: sha256(configBytes), size: configBytes.length },
    bytes: configBytes,
  };
  const manifestBytes = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA_TYPE_OCI_MANIFEST,
      config: config.descriptor,
      layers: layers.map((l) => l.descriptor),
    }),
  );
  return {
    manifest: {
      descriptor: { mediaType: MEDIA_TYPE_OCI_MANIFEST, digest: sha256(manifestBytes), size: manifestBytes.length },
      bytes: manifestBytes,
    },
    config,
    layers,
  };
}
