import { describe, expect, it } from 'vitest';
import { contentKeyFileName } from './key-env';

describe('contentKeyFileName', () => {
  it.each([
    ['assets/bert', 'assets/bert-base'],
    ['assets/a-b', 'assets/a_b'],
    ['a.b', 'a/b'],
  ])('%s and %s get distinct names a shell needs no quoting for', (a, b) => {
    expect(contentKeyFileName(a)).toMatch(/^[0-9a-f]{16}$/);
    expect(contentKeyFileName(a)).not.toBe(contentKeyFileName(b));
    expect(contentKeyFileName(a)).toBe(contentKeyFileName(a));
  });
});
