import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { groupedFilesLayer, singleFileLayer } from './file-layer';
import { tarStream } from './tar-stream';
import { Readable } from 'node:stream';

const work = mkdtempSync(join(tmpdir(), 'file-layer-spec-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function collect(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}
const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

describe('singleFileLayer', () => {
  it('digests file and layer in one read; open() streams exactly the tar tarStream makes', async () => {
    const bytes = randomBytes(3 * 1024 * 1024 + 5);
    const source = join(work, 'w.bin');
    writeFileSync(source, bytes);
    chmodSync(source, 0o755);
    const { layer, fileDigest } = await singleFileLayer({ sourcePath: source, path: 'models/w.bin' }, { mtime: 7 });
    const expected = await collect(
      tarStream([{ path: 'models/w.bin', mode: 0o755, size: bytes.length, open: () => Readable.from([bytes]) }], { mtime: 7 }),
    );
    const streamed = await collect(layer.open());
    expect(fileDigest).toBe(sha(bytes));
    expect(streamed.equals(expected)).toBe(true);
    expect(layer.descriptor).toEqual({ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha(expected), size: expected.length });
    expect(layer.diffId).toBe(sha(expected));
  });

  it('open() fails when the file changed size after hashing', async () => {
    const source = join(work, 'changing.bin');
    writeFileSync(source, 'before');
    const { layer } = await singleFileLayer({ sourcePath: source, path: 'c.bin' });
    writeFileSync(source, 'after, longer');
    await expect(collect(layer.open())).rejects.toMatchObject({ name: 'TarEntrySizeMismatchError', expected: 6 });
  });
});

describe('groupedFilesLayer', () => {
  it('is independent of input order', async () => {
    writeFileSync(join(work, 'a.txt'), 'a');
    writeFileSync(join(work, 'b.txt'), 'b');
    const files = [
      { sourcePath: join(work, 'a.txt'), path: 'x/a.txt' },
      { sourcePath: join(work, 'b.txt'), path: 'b.txt' },
    ];
    const one = await groupedFilesLayer(files);
    const two = await groupedFilesLayer([...files].reverse());
    expect(one.descriptor.digest).toBe(two.descriptor.digest);
    expect(one.descriptor.digest).toBe(sha(await collect(one.open())));
  });
});
