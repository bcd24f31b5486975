import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import {
  DigestMismatchError,
  DigestVerifier,
  digestExactly,
  digestHex,
  InvalidDigestError,
  isDigest,
  sha256Digest,
  verifyBytes,
} from './digest';
import type { Digest } from './image';

const bytes = Buffer.from('hello world');
const digest = sha256Digest(bytes);

/** Pipes chunks through a verifier; returns what reached the consumer and the error, if any. */
async function run(chunks: Buffer[], verifier: DigestVerifier): Promise<{ received: Buffer; error?: unknown }> {
  const out: Buffer[] = [];
  const sink = new Writable({ write: (chunk: Buffer, _e, done) => (out.push(chunk), done()) });
  const error = await pipeline(Readable.from(chunks), verifier, sink).then(
    () => undefined,
    (e: unknown) => e,
  );
  return { received: Buffer.concat(out), ...(error !== undefined ? { error } : {}) };
}

const HEX = '0123456789abcdef'.repeat(4);

describe('the digest form, sha256:<64 lowercase hex>', () => {
  it.each([`sha256:${HEX}`, `sha256:${'0'.repeat(64)}`, digest])('%s is a digest; its hex is the 64 digits', (value) => {
    expect(isDigest(value)).toBe(true);
    expect(digestHex(value as Digest)).toBe(value.slice('sha256:'.length));
  });

  it.each<[string, unknown]>([
    ['upper-case hex', `sha256:${HEX.toUpperCase()}`],
    ['63 digits', `sha256:${HEX.slice(1)}`],
    ['65 digits', `sha256:${HEX}0`],
    ['another algorithm', `sha512:${HEX}`],
    ['no algorithm', HEX],
    ['a non-hex digit', `sha256:${HEX.slice(1)}g`],
    ['surrounding space', ` sha256:${HEX}`],
    ['a trailing newline', `sha256:${HEX}\n`],
    ['empty', ''],
    ['not a string', 42],
    ['undefined', undefined],
  ])('%s is no digest', (_name, value) => {
    expect(isDigest(value)).toBe(false);
    if (typeof value === 'string') expect(() => digestHex(value as Digest)).toThrow(InvalidDigestError);
  });
});

describe('DigestVerifier', () => {
  it('passes the right bytes through unchanged', async () => {
    const { received, error } = await run(
      [bytes.subarray(0, 5), bytes.subarray(5)],
      new DigestVerifier(digest, { what: 'blob x', size: bytes.length }),
    );
    expect(error).toBeUndefined();
    expect(received.equals(bytes)).toBe(true);
  });

  it.each([
    [
      'wrong bytes',
      [Buffer.from('hello wOrld')],
      { actual: sha256Digest('hello wOrld'), size: 11, expectedSize: 11 },
      /^blob x: expected sha256:\w+ \(11 bytes\), got sha256:\w+ \(11 bytes\)$/,
    ],
    ['too few bytes', [Buffer.from('hello')], { actual: sha256Digest('hello'), size: 5, expectedSize: 11 }, /got sha256:\w+ \(5 bytes\)/],
    ['too many bytes', [bytes, Buffer.from('!')], { size: 12, expectedSize: 11 }, /received more than 11 bytes/],
  ])(
    'fails on %s with DigestMismatchError naming what, expected and actual, and never releases the whole',
    async (_name, chunks, fields, message) => {
      const { received, error } = await run(chunks, new DigestVerifier(digest, { what: 'blob x', size: 11 }));
      expect(error).toBeInstanceOf(DigestMismatchError);
      expect(error).toMatchObject({ name: 'DigestMismatchError', what: 'blob x', expected: digest, ...fields });
      expect((error as Error).message).toMatch(message);
      expect(received.length).toBeLessThan(chunks.reduce((n, c) => n + c.length, 0));
    },
  );

  it.each<[string, Buffer[], boolean]>([
    ['other bytes of the right size pass (the consumer verifies what it keeps)', [Buffer.from('hello wOrld')], true],
    ['too few bytes fail', [Buffer.from('hello')], false],
    ['too many bytes fail', [bytes, Buffer.from('!')], false],
  ])('sizeOnly: %s', async (_name, chunks, passes) => {
    const { received, error } = await run(chunks, new DigestVerifier(digest, { what: 'blob x', size: 11, sizeOnly: true }));
    if (passes) {
      expect(error).toBeUndefined();
      expect(received.equals(Buffer.concat(chunks))).toBe(true);
    } else {
      expect(error).toBeInstanceOf(DigestMismatchError);
    }
  });

  it('rejects an expected value that is not a sha256 digest', () => {
    expect(() => new DigestVerifier('sha512:abc' as never, { what: 'x' })).toThrow(/Not a sha256 digest/);
  });
});

describe('verifyBytes', () => {
  it('accepts matching bytes and rejects others with the data and no size when none was asked', () => {
    expect(() => verifyBytes(bytes, digest, { what: 'manifest m' })).not.toThrow();
    const error = (() => {
      try {
        verifyBytes(Buffer.from('x'), digest, { what: 'manifest m' });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toMatchObject({ what: 'manifest m', expected: digest, actual: sha256Digest('x'), size: 1 });
    expect((error as Error).message).toBe(`manifest m: expected ${digest}, got ${sha256Digest('x')}`);
  });

  it('keeps the cause', () => {
    const cause = new Error('root');
    expect(new DigestMismatchError({ what: 'w', expected: digest, actual: digest, cause }).cause).toBe(cause);
  });
});

describe('digestExactly', () => {
  class SizeError extends Error {
    constructor(readonly actual: number) {
      super(`got ${actual}`);
    }
  }
  async function* chunks(...parts: (string | Uint8Array)[]): AsyncGenerator<Uint8Array> {
    for (const part of parts) yield typeof part === 'string' ? Buffer.from(part) : part;
  }
  it.each<[string, (string | Uint8Array)[], number, number | undefined]>([
    ['exactly the size', ['ab', 'cd'], 4, undefined],
    ['nothing, size 0', [], 0, undefined],
    ['a plain Uint8Array chunk', [new Uint8Array([97, 98])], 2, undefined],
    ['short', ['ab'], 4, 2],
    ['long: thrown at the chunk that passes the size', ['ab', 'cd', 'ef'], 3, 4],
  ])('%s', async (_, parts, size, errorAt) => {
    const seen: string[] = [];
    const run = digestExactly(
      chunks(...parts),
      size,
      (actual) => new SizeError(actual),
      async (chunk) => {
        seen.push(chunk.toString());
      },
    );
    if (errorAt === undefined) {
      expect(await run).toBe(sha256Digest(Buffer.concat(parts.map((p) => Buffer.from(p)))));
      expect(seen.join('')).toBe(Buffer.concat(parts.map((p) => Buffer.from(p))).toString());
    } else {
      await expect(run).rejects.toMatchObject({ actual: errorAt });
      // Nothing past the size is handed on.
      expect(seen.join('').length).toBeLessThanOrEqual(size);
    }
  });
});
