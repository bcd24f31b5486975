import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isAtomicWriteTemp, tempPathFor, tempTargetName } from './atomic-write';

describe('tempTargetName', () => {
  it.each<[string, string, string | undefined]>([
    ['a temp name of tempPathFor', basename(tempPathFor('/a/model.bin')), 'model.bin'],
    ['a temp name of a dotted target', basename(tempPathFor('/a/.gc.last')), '.gc.last'],
    ['the target itself', 'model.bin', undefined],
    ['a hidden file', '.model.bin', undefined],
    ['a pid that is not a number', '.model.bin.x.0a1b2c3d.tmp', undefined],
    ['a random part of the wrong length', '.model.bin.12.0a1b2c.tmp', undefined],
  ])('%s', (_, name, expected) => {
    expect(tempTargetName(name)).toBe(expected);
    expect(isAtomicWriteTemp(name)).toBe(expected !== undefined);
  });
});
