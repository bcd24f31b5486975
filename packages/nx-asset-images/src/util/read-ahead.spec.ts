import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readAhead } from './read-ahead';

const dir = mkdtempSync(join(tmpdir(), 'nxai-read-ahead-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const paths = Array.from({ length: 40 }, (_, i) => {
  const path = join(dir, `f${i}`);
  writeFileSync(path, `file ${i}\n`);
  return path;
});

describe('readAhead', () => {
  it('reads each file in order with a window ahead', async () => {
    const read = readAhead(paths, 4);
    for (let i = 0; i < paths.length; i++) expect((await read(i)).toString()).toBe(`file ${i}\n`);
  });

  it('answers out of order and repeated indexes with a fresh read', async () => {
    const read = readAhead(paths, 2);
    expect((await read(30)).toString()).toBe('file 30\n');
    expect((await read(3)).toString()).toBe('file 3\n');
    expect((await read(30)).toString()).toBe('file 30\n');
  });

  it('rejects with the read error of a missing file, and an unasked failing read is not unhandled', async () => {
    const read = readAhead([paths[0]!, join(dir, 'missing'), join(dir, 'missing-too')], 2);
    expect((await read(0)).toString()).toBe('file 0\n');
    await expect(read(1)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
