import { mkdtemp, readFile, rm, writeFile, mkdir, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileLockTimeoutError, withFileLock } from './file-lock';

describe('withFileLock', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nxai-lock-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('serialises read-modify-write: no update is lost', async () => {
    const file = join(dir, 'counter');
    await writeFile(file, '0');
    const bump = () =>
      withFileLock(join(dir, 'counter.lock'), async () => {
        const n = Number(await readFile(file, 'utf8'));
        await new Promise((r) => setTimeout(r, 2));
        await writeFile(file, String(n + 1));
      });
    await Promise.all(Array.from({ length: 20 }, bump));
    expect(await readFile(file, 'utf8')).toBe('20');
  });

  it('takes over a stale lock and times out on a fresh one', async () => {
    const lock = join(dir, 'x.lock');
    await mkdir(lock);
    await expect(withFileLock(lock, async () => 'never', { timeoutMs: 50 })).rejects.toBeInstanceOf(FileLockTimeoutError);
    const old = new Date(Date.now() - 10 * 60_000);
    await utimes(lock, old, old);
    expect(await withFileLock(lock, async () => 'ran')).toBe('ran');
  });
});
