import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readAhead, readWhole } from './read-ahead';

const dir = mkdtempSync(join(tmpdir(), 'nxai-read-ahead-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const paths = Array.from({ length: 40 }, (_, i) => {
  const path = join(dir, `f${i}`);
  writeFileSync(path, `file ${i}\n`);
  return path;
});
const files = paths.map((path, i) => ({ path, size: `file ${i}\n`.length }));

describe('readAhead', () => {
  it('reads each file in order with a window ahead', async () => {
    const read = readAhead(files, 4);
    for (let i = 0; i < paths.length; i++) expect((await read(i)).toString()).toBe(`file ${i}\n`);
  });

  it('answers out of order and repeated indexes with a fresh read', async () => {
    const read = readAhead(files, 2);
    expect((await read(30)).toString()).toBe('file 30\n');
    expect((await read(3)).toString()).toBe('file 3\n');
    expect((await read(30)).toString()).toBe('file 30\n');
  });

  it('rejects with the read error of a missing file, and an unasked failing read is not unhandled', async () => {
    const read = readAhead([files[0]!, { path: join(dir, 'missing'), size: 1 }, { path: join(dir, 'missing-too'), size: 1 }], 2);
    expect((await read(0)).toString()).toBe('file 0\n');
    await expect(read(1)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('skips undefined files and rejects when one is asked for', async () => {
    const read = readAhead([undefined, files[1]!], 4);
    expect((await read(1)).toString()).toBe('file 1\n');
    await expect(read(0)).rejects.toThrow(/no file at 0/);
  });
});

describe('readWhole', () => {
  const path = join(dir, 'sized');
  const content = 'x'.repeat(1000);
  // The scan's size against the file now: the bytes are always the file as it is now.
  it.each([
    ['the scanned size', 1000],
    ['grown since the scan (read again whole)', 10],
    ['shrunk since the scan', 5000],
    ['empty when scanned', 0],
  ])('reads the whole file when it is %s', async (_, scanned) => {
    writeFileSync(path, content);
    expect((await readWhole({ path, size: scanned })).toString()).toBe(content);
  });

  it('reads an empty file', async () => {
    writeFileSync(path, '');
    expect((await readWhole({ path, size: 0 })).length).toBe(0);
  });

  it('rejects with the open error of a missing file', async () => {
    await expect(readWhole({ path: join(dir, 'nope'), size: 3 })).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
