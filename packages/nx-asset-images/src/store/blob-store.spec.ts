import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { sha256Digest } from '../oci/digest';
import type { Digest } from '../oci/image';
import { blobPath, hasBlob, writeBlob, writeBlobThrough } from './blob-store';
import { BlobDigestMismatchError } from './layout-errors';
import { Readable } from 'node:stream';

const bytes = Buffer.from('0123456789'.repeat(1000));
const descriptor = { mediaType: 'application/octet-stream', digest: sha256Digest(bytes) as Digest, size: bytes.length };
const chunks = (data: Buffer, size = 1024): Buffer[] =>
  Array.from({ length: Math.ceil(data.length / size) }, (_, i) => data.subarray(i * size, (i + 1) * size));

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});
const layout = async () => (dir = await mkdtemp(join(tmpdir(), 'blob-store-')));
const blobFolder = () => join(dir!, 'blobs', 'sha256');
async function collect(source: AsyncIterable<Buffer>): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const chunk of source) out.push(chunk);
  return Buffer.concat(out);
}
async function* failingAfter(data: Buffer[], n: number, error: Error): AsyncGenerator<Buffer> {
  for (const [i, chunk] of data.entries()) {
    if (i === n) throw error;
    yield chunk;
  }
}

describe('writeBlob', () => {
  it('writes a verified blob, skips it when present, and leaves nothing for wrong bytes', async () => {
    const root = await layout();
    expect(await writeBlob(root, descriptor, () => Readable.from(chunks(bytes)))).toBe('written');
    expect((await readFile(blobPath(root, descriptor.digest))).equals(bytes)).toBe(true);
    expect(await writeBlob(root, descriptor, () => Readable.from([Buffer.from('never read')]))).toBe('skipped');
    const other = { ...descriptor, digest: sha256Digest(Buffer.from('other')) as Digest };
    await expect(writeBlob(root, other, () => Readable.from(chunks(bytes)))).rejects.toBeInstanceOf(BlobDigestMismatchError);
    expect((await readdir(blobFolder())).sort()).toEqual([descriptor.digest.slice(7)]);
  });
});

describe('writeBlobThrough: kept in the store while the bytes flow on', () => {
  it('passes every byte on and keeps the blob once the source ends', async () => {
    const root = await layout();
    const passed = await collect(writeBlobThrough(root, descriptor, chunks(bytes) as unknown as AsyncIterable<Buffer>));
    expect(passed.equals(bytes)).toBe(true);
    expect(await hasBlob(root, descriptor)).toBe(true);
    expect((await readFile(blobPath(root, descriptor.digest))).equals(bytes)).toBe(true);
  });

  it('keeps a blob of many batches (chunks of every size, past the 1 MiB write batch) byte for byte, in order', async () => {
    const root = await layout();
    const big = Buffer.from(Array.from({ length: 3 * 1024 * 1024 + 777 }, (_, i) => (i * 7919) % 251));
    const bigDescriptor = { mediaType: 'application/octet-stream', digest: sha256Digest(big) as Digest, size: big.length };
    const sizes = [1, 65536, 3, 1024 * 1024, 4096, 100_000];
    const parts: Buffer[] = [];
    for (let offset = 0, i = 0; offset < big.length; i++) {
      const end = Math.min(big.length, offset + sizes[i % sizes.length]!);
      parts.push(big.subarray(offset, end));
      offset = end;
    }
    const passed = await collect(writeBlobThrough(root, bigDescriptor, parts as unknown as AsyncIterable<Buffer>));
    expect(passed.equals(big)).toBe(true);
    expect((await readFile(blobPath(root, bigDescriptor.digest))).equals(big)).toBe(true);
  });

  it.each<[string, (root: string) => Promise<unknown>, RegExp | (new (...args: never[]) => Error)]>([
    [
      'a source that fails midway (a digest mismatch at its end, a lost connection)',
      (root) => collect(writeBlobThrough(root, descriptor, failingAfter(chunks(bytes), 5, new Error('digest mismatch')))),
      /digest mismatch/,
    ],
    [
      'a source that ends short',
      (root) => collect(writeBlobThrough(root, descriptor, failingAfter(chunks(bytes).slice(0, 5), 99, new Error('unused')))),
      BlobDigestMismatchError,
    ],
    [
      'a consumer that stops early',
      async (root) => {
        for await (const _chunk of writeBlobThrough(root, descriptor, failingAfter(chunks(bytes), 99, new Error('unused')))) break;
        throw new Error('stopped');
      },
      /stopped/,
    ],
  ])('%s leaves nothing in the store', async (_name, run, expected) => {
    const root = await layout();
    const error = await run(root).catch((e: unknown) => e);
    if (expected instanceof RegExp) expect((error as Error).message).toMatch(expected);
    else expect(error).toBeInstanceOf(expected);
    expect(await hasBlob(root, descriptor)).toBe(false);
    expect(await readdir(blobFolder())).toEqual([]);
  });
});
