import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../oci/canonical-json';
import { sha256Digest } from '../oci/digest';
import type { AnalyzedFile, AssetAnalysis } from './analyze-asset';
import { contentKey } from './content-key';

/** The definition the key must keep (Nx caches hold keys made by it): sha256 of the canonical JSON of the local files. */
function referenceKey(analysis: AssetAnalysis): string {
  const files = analysis.layers
    .flatMap((layer) => layer.files)
    .filter((file) => file.origin === 'local')
    .map((file) => [file.relPath, file.size, file.mode, file.sha256])
    .sort((a, b) => (a[0]! < b[0]! ? -1 : 1));
  return sha256Digest(canonicalJson({ version: 1, destination: analysis.manifest.destination, files }));
}

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
    ['no files', analysisOf('/', [])],
    ['one file', analysisOf('/data', [[file('a.bin', 3)]])],
    [
      'files across layers out of order, a remote source left out',
      analysisOf('/models', [[file('z/b', 0, 0o755)], [file('a', 1), file('src', 9, 0o644, 'source')]]),
    ],
    ['paths needing escapes', analysisOf('/d "q"', [[file('é/"x"\\y\n', 5), file('B', 2), file('a', 2)]])],
  ])('%s: the canonical JSON digest', (_name, analysis) => {
    expect(contentKey(analysis)).toBe(referenceKey(analysis));
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
