import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FIRST_BUILD_PRUNE_INTERVAL_MS, LAST_PRUNE_FILE, pruneAfterBuild, shouldPruneAfterBuild } from './prune-after-build';
import { recordBuild } from './store-history';

const NOW = 1_800_000_000_000;
const D1 = `sha256:${'1'.repeat(64)}` as const;
const D2 = `sha256:${'2'.repeat(64)}` as const;

describe('shouldPruneAfterBuild', () => {
  it.each<[string, boolean, number | undefined, boolean]>([
    ['a rebuild, pruned a second ago', false, NOW - 1000, true],
    ['a first build, never pruned', true, undefined, true],
    ['a first build, pruned a second ago', true, NOW - 1000, false],
    ['a first build, pruned just inside the interval', true, NOW - FIRST_BUILD_PRUNE_INTERVAL_MS + 1, false],
    ['a first build, pruned an interval ago', true, NOW - FIRST_BUILD_PRUNE_INTERVAL_MS, true],
    ['a first build, a prune time in the future (clock moved back)', true, NOW + 60_000, true],
  ])('%s', (_, firstBuild, lastPruneMs, expected) => {
    expect(shouldPruneAfterBuild({ firstBuild, lastPruneMs, nowMs: NOW })).toBe(expected);
  });
});

describe('pruneAfterBuild', () => {
  const root = mkdtempSync(join(tmpdir(), 'nxai-prune-after-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const store = join(root, '.asset-images');
  mkdirSync(store, { recursive: true });
  writeFileSync(join(root, 'nx.json'), '{}\n');
  const marker = join(store, LAST_PRUNE_FILE);

  it('a new store whose history is its one first build: marked pruned, no prune; another first build in a store never pruned prunes; the next first build skips; a rebuild prunes', async () => {
    await recordBuild(store, 'a', D1);
    expect(await pruneAfterBuild(root, { gc: true }, 'a', NOW - 500)).toBeUndefined();
    expect(statSync(marker).mtimeMs).toBe(NOW - 500);

    rmSync(marker);
    await recordBuild(store, 'z', D1);
    const first = await pruneAfterBuild(root, { gc: true }, 'z', NOW);
    expect(first?.ran).toBe(true);
    expect(statSync(marker).mtimeMs).toBe(NOW);

    await recordBuild(store, 'b', D1);
    expect(await pruneAfterBuild(root, { gc: true }, 'b', NOW + 1000)).toBeUndefined();

    await recordBuild(store, 'b', D2);
    const rebuild = await pruneAfterBuild(root, { gc: true }, 'b', NOW + 2000);
    expect(rebuild?.ran).toBe(true);
    expect(statSync(marker).mtimeMs).toBe(NOW + 2000);
  });

  it('gc off: never', async () => {
    await recordBuild(store, 'c', D1);
    expect(await pruneAfterBuild(root, { gc: false }, 'c', NOW + FIRST_BUILD_PRUNE_INTERVAL_MS * 10)).toBeUndefined();
  });
});
