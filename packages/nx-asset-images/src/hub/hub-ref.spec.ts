import { describe, expect, it } from 'vitest';
import { formatHubRef, InvalidHubRefError, parseHubRef } from './hub-ref';

describe('parseHubRef', () => {
  it.each([
    ['hf://org/repo', { repoId: 'org/repo', revision: 'main', revisionGiven: false }],
    ['hf://google-bert/bert-base-uncased@v1.0', { repoId: 'google-bert/bert-base-uncased', revision: 'v1.0', revisionGiven: true }],
    [' hf://a_b/c.d@refs/pr/1 ', { repoId: 'a_b/c.d', revision: 'refs/pr/1', revisionGiven: true }],
    ['hf://org/repo@' + 'a'.repeat(40), { repoId: 'org/repo', revision: 'a'.repeat(40), revisionGiven: true }],
  ])('%s', (input, expected) => {
    expect(parseHubRef(input)).toEqual(expected);
  });

  it.each([
    ['https://huggingface.co/org/repo', 'start with hf://'],
    ['hf://repo', 'is not <org>/<repo>'],
    ['hf://org/repo/extra', 'is not <org>/<repo>'],
    ['hf://org/re po', 'is not <org>/<repo>'],
    ['hf://org/-repo', 'is not <org>/<repo>'],
    ['hf://org/a..b', 'is not <org>/<repo>'],
    ['hf://org/repo@', 'revision after "@" is empty'],
    ['hf://org/repo@a b', 'white space'],
  ])('rejects %s', (input, reason) => {
    expect(() => parseHubRef(input)).toThrow(InvalidHubRefError);
    expect(() => parseHubRef(input)).toThrow(reason);
  });

  it('formats a ref for messages', () => {
    expect(formatHubRef({ repoId: 'org/repo', revision: 'main' })).toBe('hf://org/repo@main');
  });
});
