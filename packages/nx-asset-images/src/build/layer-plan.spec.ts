import { describe, it, expect } from 'vitest';
import { imagePathOf, normaliseMode, planLayers, type PlanInputFile } from './layer-plan';

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
