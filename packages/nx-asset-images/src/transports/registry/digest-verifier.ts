/**
 * A pass-through that hashes what flows and holds back its last chunk until
 * the end: when the bytes do not hash to the expected digest (or have the
 * wrong size) it fails instead of releasing them, so a consumer (an HTTP
 * request body, a temp file) never sees a complete wrong blob.
 */
import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { DigestMismatchError } from './registry-errors';

export function sha256Digest(bytes: Buffer): `sha256:${string}` {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

export function createDigestVerifier(expected: string, expectedSize: number | undefined, what: string): Transform {
  if (!expected.startsWith('sha256:')) throw new Error(`${what}: unsupported digest algorithm in ${expected}`);
  const hash = createHash('sha256');
  let held: Buffer | undefined;
  let size = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      hash.update(chunk);
      size += chunk.length;
      if (expectedSize !== undefined && size > expectedSize) {
        return callback(new DigestMismatchError(`${expectedSize} bytes`, `more`, `${what}: size`));
      }
      const out = held;
      held = chunk;
      callback(null, out);
    },
    flush(callback: TransformCallback) {
      const actual = `sha256:${hash.digest('hex')}`;
      if (expectedSize !== undefined && size !== expectedSize) return callback(new DigestMismatchError(`${expectedSize} bytes`, `${size} bytes`, `${what}: size`));
      if (actual !== expected) return callback(new DigestMismatchError(expected, actual, what));
      callback(null, held);
    },
  });
}
