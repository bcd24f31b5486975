import { describe, expect, it } from 'vitest';
import { parseContentLength, parseContentRange } from './content-headers';

describe('parseContentRange', () => {
  it.each([
    ['bytes 10-99/100', { kind: 'range', start: 10, end: 99, total: 100 }],
    ['bytes 0-0/1', { kind: 'range', start: 0, end: 0, total: 1 }],
    ['bytes 10-99/*', { kind: 'range', start: 10, end: 99 }],
    ['bytes */100', { kind: 'unsatisfied', total: 100 }],
    ['bytes 10-99/50', undefined],
    ['bytes 99-10/100', undefined],
    ['items 0-1/2', undefined],
    ['bytes 10-/100', undefined],
    [undefined, undefined],
  ])('%s -> %j', (header, expected) => {
    expect(parseContentRange(header)).toEqual(expected);
  });
});

describe('parseContentLength', () => {
  it.each([
    ['42', 42],
    [' 7 ', 7],
    ['-1', undefined],
    ['x', undefined],
    [undefined, undefined],
  ])('%s -> %s', (header, length) => {
    expect(parseContentLength(header)).toBe(length);
  });
});
