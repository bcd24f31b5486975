import { describe, expect, it } from 'vitest';
import { fileSelector } from './file-selection';

describe('fileSelector', () => {
  const cases: Array<[string, { files: string[]; exclude: string[] }, string, boolean]> = [
    ['the default selects everything', { files: ['**/*'], exclude: [] }, 'weights/model.bin', true],
    ['dotfiles too', { files: ['**/*'], exclude: [] }, '.hidden/x', true],
    ['never the metadata files', { files: ['**/*'], exclude: [] }, 'asset.lock.json', false],
    ['a glob', { files: ['weights/*.bin'], exclude: [] }, 'weights/model.bin', true],
    ['a glob that does not match', { files: ['weights/*.bin'], exclude: [] }, 'weights/model.safetensors', false],
    ['a folder named without magic', { files: ['weights'], exclude: [] }, 'weights/a/b.bin', true],
    ['a folder with a slash', { files: ['weights/'], exclude: [] }, 'weights/b.bin', true],
    ['a file named exactly', { files: ['config.json'], exclude: [] }, 'config.json', true],
    ['excluded by a glob', { files: ['**/*'], exclude: ['**/*.tmp'] }, 'a/b.tmp', false],
    ['excluded folder', { files: ['**/*'], exclude: ['scratch'] }, 'scratch/x.bin', false],
    ['negated in files', { files: ['**/*', '!old/**'], exclude: [] }, 'old/model.bin', false],
    ['a sibling of an excluded folder', { files: ['**/*'], exclude: ['scratch'] }, 'scratchpad.txt', true],
  ];
  it.each(cases)('%s', (_name, manifest, relPath, expected) => {
    expect(fileSelector(manifest)(relPath)).toBe(expected);
  });
});
