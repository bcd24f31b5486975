import { describe, expect, it } from 'vitest';
import { isRetryableStatus, parseContentLength, parseContentRange, parseRetryAfter } from './download-http';

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

describe('parseRetryAfter', () => {
  const now = Date.parse('2025-01-01T00:00:00Z');
  it.each([
    ['3', 3000],
    ['Wed, 01 Jan 2025 00:00:10 GMT', 10_000],
    ['Tue, 31 Dec 2024 00:00:00 GMT', 0],
    ['soon', undefined],
    [undefined, undefined],
  ])('%s -> %s', (header, ms) => {
    expect(parseRetryAfter(header, now)).toBe(ms);
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

describe('isRetryableStatus', () => {
  it.each([
    [500, true],
    [503, true],
    [429, true],
    [408, true],
    [404, false],
    [401, false],
    [400, false],
  ])('%s -> %s', (status, retryable) => {
    expect(isRetryableStatus(status)).toBe(retryable);
  });
});
