import { describe, it, expect } from 'vitest';
import { endsGroup, imagePathOf, MAX_SMALL_GROUPS, normaliseMode, planLayers, smallGroupTarget, type PlanInputFile } from './layer-plan';

const MiB = 1024 * 1024;
const f = (relPath: string, size: number, mode = 0o100644): PlanInputFile => ({ relPath, size, mode, sha256: relPath.padEnd(64, '0') });
const shape = (files: PlanInputFile[], options: Parameters<typeof planLayers>[1]) =>
  planLayers(files, options).map((layer) => `${layer.kind}:${layer.files.map((file) => file.imagePath).join(',')}`);

describe('planLayers', () => {
  it.each<[string, PlanInputFile[], Parameters<typeof planLayers>[1], string[]]>([
    ['nothing', [], { destination: '/' }, []],
    ['only small files, one layer, sorted', [f('b.txt', 10), f('a.txt', 10)], { destination: '/' }, ['small-files:a.txt,b.txt']],
    [
      'large files alone, by path, below the small layer',
      [f('w/z.bin', 20 * MiB), f('vocab.txt', 5), f('w/a.bin', 16 * MiB), f('config.json', 5)],
      { destination: '/' },
      ['large-file:w/a.bin', 'large-file:w/z.bin', 'small-files:config.json,vocab.txt'],
    ],
    ['only large files', [f('b', 40), f('a', 50)], { destination: '/', largeFileThreshold: 40 }, ['large-file:a', 'large-file:b']],
    ['threshold is inclusive', [f('a', 39), f('b', 40)], { destination: '/', largeFileThreshold: 40 }, ['large-file:b', 'small-files:a']],
    [
      'small layers split under the max',
      [f('a', 4), f('b', 4), f('c', 4), f('d', 9)],
      { destination: '/', largeFileThreshold: 100, smallLayerMaxBytes: 9 },
      ['small-files:a,b', 'small-files:c', 'small-files:d'],
    ],
    ['destination prefixes the image path', [f('w/m.bin', 1)], { destination: '/models/bert' }, ['small-files:models/bert/w/m.bin']],
    ['destination with trailing slash', [f('m.bin', 1)], { destination: '/models/' }, ['small-files:models/m.bin']],
  ])('%s', (_label, files, options, expected) => {
    expect(shape(files, options)).toEqual(expected);
  });

  it('carries size, mode and sha256 and sums layer sizes', () => {
    const layers = planLayers([f('run.sh', 3, 0o100700), f('a', 2)], { destination: '/x' });
    expect(layers).toEqual([
      {
        kind: 'small-files',
        size: 5,
        files: [
          { relPath: 'a', imagePath: 'x/a', size: 2, mode: 0o644, sha256: 'a'.padEnd(64, '0') },
          { relPath: 'run.sh', imagePath: 'x/run.sh', size: 3, mode: 0o755, sha256: 'run.sh'.padEnd(64, '0') },
        ],
      },
    ]);
  });

  it('is deterministic whatever the input order', () => {
    const files = [f('c', 1), f('big2', 50), f('a', 1), f('big1', 60), f('b', 1)];
    const once = planLayers(files, { destination: '/', largeFileThreshold: 50 });
    expect(planLayers([...files].reverse(), { destination: '/', largeFileThreshold: 50 })).toEqual(once);
  });

  it('rejects two files with the same image path', () => {
    expect(() => planLayers([f('a', 1), f('a', 2)], { destination: '/' })).toThrow(/same image path "a"/);
  });
});

describe('normaliseMode / imagePathOf', () => {
  it.each([
    [0o100644, 0o644],
    [0o100600, 0o644],
    [0o100755, 0o755],
    [0o100744, 0o755],
    [0o100601, 0o755],
  ])('mode %o → %o', (mode, expected) => expect(normaliseMode(mode)).toBe(expected));
  it.each([
    ['/', 'a/b', 'a/b'],
    ['/opt/m', 'a', 'opt/m/a'],
  ])('%s + %s → %s', (dest, rel, expected) => expect(imagePathOf(dest, rel)).toBe(expected));
});

describe('small-file groups: boundaries by path, not position', () => {
  const KiB = 1024;
  // A corpus like the benchmark's: 20,000 files of 24 KiB in 40 folders.
  const corpus = (n = 20_000, size = 24 * KiB) =>
    Array.from({ length: n }, (_, i) => f(`d${String(i % 40).padStart(2, '0')}/f${String(i).padStart(6, '0')}.txt`, size));
  const groups = (files: PlanInputFile[]) =>
    planLayers(files, { destination: '/' })
      .filter((l) => l.kind === 'small-files')
      .map((l) => l.files.map((file) => `${file.imagePath}:${file.size}:${file.sha256}`).join('|'));
  /** Groups of `before` that `after` no longer has, and groups of `after` that are new. */
  const changed = (before: string[], after: string[]) => ({
    gone: before.filter((g) => !after.includes(g)).length,
    added: after.filter((g) => !before.includes(g)).length,
  });
  const base = corpus();
  const plan = groups(base);

  it('the 20,000-file corpus gives groups averaging the 16 MiB target, none over the hard maximum', () => {
    const sizes = planLayers(base, { destination: '/' }).map((l) => l.size);
    const mean = sizes.reduce((a, b) => a + b, 0) / sizes.length;
    expect(sizes.length).toBeGreaterThan(10);
    expect(sizes.length).toBeLessThanOrEqual(MAX_SMALL_GROUPS);
    expect(mean).toBeGreaterThan(8 * MiB);
    expect(mean).toBeLessThan(32 * MiB);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(256 * MiB);
  });

  // A path that does not itself end a group (almost every path: the chance is 24 KiB / 16 MiB).
  const inserted = ['d07/f010000a.txt', 'd07/f010000b.txt', 'd07/f010000c.txt'].find(
    (p) => !endsGroup({ imagePath: p, size: 24 * KiB }, 16 * MiB),
  )!;

  it.each<[string, (files: PlanInputFile[]) => PlanInputFile[]]>([
    ['an insert', (files) => [...files, f(inserted, 24 * KiB)]],
    ['a delete', (files) => files.filter((file) => file.relPath !== 'd13/f012333.txt')],
    [
      'an edit (new content, same size)',
      (files) => files.map((file) => (file.relPath === 'd01/f004521.txt' ? { ...file, sha256: 'e'.repeat(64) } : file)),
    ],
    [
      'an edit (new content, 2 KiB longer)',
      (files) =>
        files.map((file) => (file.relPath === 'd01/f004521.txt' ? { ...file, size: file.size + 2 * KiB, sha256: 'e'.repeat(64) } : file)),
    ],
  ])('%s re-makes exactly one group; every other keeps its files', (_name, edit) => {
    expect(changed(plan, groups(edit(base)))).toEqual({ gone: 1, added: 1 });
  });

  it('the order of the input does not matter', () => {
    expect(groups([...base].reverse())).toEqual(plan);
  });

  it.each([
    [470 * MiB, 16 * MiB],
    [2400 * MiB, 64 * MiB],
    [10, 16 * MiB],
  ])('the target for %d bytes of small files is %d (doubled until at most MAX_SMALL_GROUPS groups)', (total, target) => {
    expect(smallGroupTarget(total)).toBe(target);
  });

  it('100,000 files stay within the layer budget', () => {
    const count = planLayers(corpus(100_000), { destination: '/' }).length;
    expect(count).toBeLessThanOrEqual(MAX_SMALL_GROUPS * 1.5);
    expect(count).toBeGreaterThan(MAX_SMALL_GROUPS / 4);
  });

  it('a file that would pass the hard maximum starts a new group', () => {
    const layers = planLayers([f('a', 6), f('b', 6), f('c', 6)], { destination: '/', smallLayerMaxBytes: 12, smallGroupTargetBytes: 1e9 });
    expect(layers.map((l) => l.files.map((file) => file.imagePath))).toEqual([['a', 'b'], ['c']]);
  });
});
