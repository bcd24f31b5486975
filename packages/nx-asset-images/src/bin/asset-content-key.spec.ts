import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { assetContentKeyLine } from './asset-content-key';

describe('assetContentKeyLine', () => {
  const root = mkdtempSync(join(tmpdir(), 'nxai-keyline-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('gives a failing key a new line on every run, with the digest of its message', async () => {
    const first = await assetContentKeyLine(root, 'assets/missing');
    const second = await assetContentKeyLine(root, 'assets/missing');
    expect(first).toMatch(/^error [0-9a-f-]{36} sha256:[0-9a-f]{64}$/);
    expect(second).not.toBe(first);
    // The same failure: the same message digest.
    expect(second.split(' ')[2]).toBe(first.split(' ')[2]);
  });
});
