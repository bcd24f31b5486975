import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { AnalyzedFile, AssetAnalysis } from './analyze-asset';
import { contentKey } from './content-key';

/**
 * The definition the key must keep (Nx caches hold keys made by it): sha256 of the canonical JSON (keys sorted, no
 * whitespace) of `{ destination, files: [[relPath, size, mode, sha256], ...] in path order, version: 1 }` of the local
 * files. The oracle is each case's JSON written out by hand, hashed with node:crypto: none of the production code.
 */
const keyOf = (json: string): string => `sha256:${createHash('sha256').update(json, 'utf8').digest('hex')}`;

/** The fake content hash `file()` gives a path: its length in hex, 64 digits. */
const h = (length: number): string => length.toString(16).padStart(64, '0');

const file = (relPath: string, size: number, mode = 0o644, origin: 'local' | 'source' = 'local'): AnalyzedFile =>
  ({
    relPath,
    imagePath: relPath,
    size,
    mode,
    sha256: relPath.length.toString(16).padStart(64, '0'),
    absPath: `/w/${relPath}`,
    origin,
  }) as AnalyzedFile;

const analysisOf = (destination: string, layers: AnalyzedFile[][]): AssetAnalysis =>
  ({ manifest: { destination }, layers: layers.map((files) => ({ kind: 'small-files', files })) }) as unknown as AssetAnalysis;

describe('contentKey', () => {
  it.each([
    ['no files', analysisOf('/', []), '{"destination":"/","files":[],"version":1}'],
    ['one file', analysisOf('/data', [[file('a.bin', 3)]]), `{"destination":"/data","files":[["a.bin",3,420,"${h(5)}"]],"version":1}`],
    [
      'files across layers out of order, a remote source left out',
      analysisOf('/models', [[file('z/b', 0, 0o755)], [file('a', 1), file('src', 9, 0o644, 'source')]]),
      `{"destination":"/models","files":[["a",1,420,"${h(1)}"],["z/b",0,493,"${h(3)}"]],"version":1}`,
    ],
    [
      'paths needing escapes, sorted by code unit (B before a before é)',
      analysisOf('/d "q"', [[file('é/"x"\\y\n', 5), file('B', 2), file('a', 2)]]),
      `{"destination":"/d \\"q\\"","files":[["B",2,420,"${h(1)}"],["a",2,420,"${h(1)}"],["é/\\"x\\"\\\\y\\n",5,420,"${h(8)}"]],"version":1}`,
    ],
  ])('%s: sha256 of the canonical JSON written out', (_name, analysis, json) => {
    expect(contentKey(analysis)).toBe(keyOf(json));
  });

  it('is pinned: the key of a fixed asset is this literal (a change of definition would miss every Nx cache)', () => {
    const analysis = analysisOf('/models', [[file('weights/model.bin', 1024)], [file('config.json', 20), file('run.sh', 9, 0o755)]]);
    // printf '%s' '{"destination":"/models","files":[["config.json",20,420,"0…0b"],["run.sh",9,493,"0…06"],["weights/model.bin",1024,420,"0…11"]],"version":1}' | sha256sum
    expect(contentKey(analysis)).toBe('sha256:5aaeccef39814e9f563133105c803b7b6b4f7f08e7446078254f960ef11a9134');
  });

  it('changes with a path, size, mode, content or destination', () => {
    const base = contentKey(analysisOf('/data', [[file('a', 1)]]));
    const changed = [
      analysisOf('/data', [[file('b', 1)]]),
      analysisOf('/data', [[file('a', 2)]]),
      analysisOf('/data', [[file('a', 1, 0o755)]]),
      analysisOf('/other', [[file('a', 1)]]),
      analysisOf('/data', [[{ ...file('a', 1), sha256: 'f'.repeat(64) }]]),
    ].map(contentKey);
    expect(new Set([base, ...changed]).size).toBe(6);
  });
});
