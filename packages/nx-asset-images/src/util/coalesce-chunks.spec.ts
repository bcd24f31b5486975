import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { coalesceChunks } from './coalesce-chunks';

/** The writes a sink gets (as a child's stdin would) when `chunks` go through the stage. */
async function through(chunks: Buffer[], minBytes: number): Promise<Buffer[]> {
  const out: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      out.push(chunk);
      callback();
    },
  });
  await pipeline(Readable.from(chunks, { objectMode: false }), coalesceChunks(minBytes), sink);
  return out;
}

const bytes = (n: number, fill: number) => Buffer.alloc(n, fill);

describe('coalesceChunks', () => {
  it.each([
    ['small chunks joined into writes of at least minBytes, the rest at the end', [3, 3, 3, 3, 3], 8, [9, 6]],
    ['a big chunk with nothing pending passes alone', [20], 8, [20]],
    ['a big chunk after small ones is joined with them', [2, 20, 2], 8, [22, 2]],
    ['exactly minBytes', [4, 4], 8, [8]],
    ['nothing in, nothing out', [], 8, []],
  ])('%s', async (_, sizes, minBytes, expected) => {
    const chunks = sizes.map((n, i) => bytes(n, i + 1));
    const out = await through(chunks, minBytes);
    expect(out.map((c) => c.length)).toEqual(expected);
    expect(Buffer.concat(out)).toEqual(Buffer.concat(chunks));
  });

  it('does not copy a big chunk that passes alone', async () => {
    const big = bytes(64, 7);
    const [out] = await through([big], 8);
    expect(out!.buffer).toBe(big.buffer);
  });
});
