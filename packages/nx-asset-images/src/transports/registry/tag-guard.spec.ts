import { describe, expect, it } from 'vitest';
import type { Digest } from '../../oci/image';
import { tagDecisions } from './tag-guard';

const A = `sha256:${'a'.repeat(64)}` as Digest;
const B = `sha256:${'b'.repeat(64)}` as Digest;

describe('tagDecisions', () => {
  it.each<[string, [string, Digest | undefined][], boolean, { conflicts: string[]; moves: string[] }]>([
    [
      'new tags',
      [
        ['0.1', undefined],
        ['latest', undefined],
      ],
      false,
      { conflicts: [], moves: [] },
    ],
    [
      'tags already on this content',
      [
        ['0.1', B],
        ['latest', B],
      ],
      false,
      { conflicts: [], moves: [] },
    ],
    [
      'a version tag on other content',
      [
        ['0.1', A],
        ['latest', A],
      ],
      false,
      { conflicts: ['0.1'], moves: ['latest'] },
    ],
    [
      'forced',
      [
        ['0.1', A],
        ['latest', A],
      ],
      true,
      { conflicts: [], moves: ['0.1', 'latest'] },
    ],
  ])('%s', (_name, current, force, expected) => {
    const { conflicts, moves } = tagDecisions(new Map(current), B, { mutable: ['latest'], force });
    expect({ conflicts: conflicts.map((c) => c.tag), moves: moves.map((m) => m.tag) }).toEqual(expected);
    for (const c of conflicts) expect(c.held).toBe(A);
  });
});
