import { describe, expect, it } from 'vitest';
import { backoffDelay, isRetryableStatus, parseRetryAfter, withRetry } from './retry-policy';

describe('isRetryableStatus', () => {
  it.each([
    [500, true],
    [502, true],
    [503, true],
    [504, true],
    [429, true],
    [425, true],
    [408, true],
    [501, false],
    [505, false],
    [404, false],
    [401, false],
    [400, false],
  ])('%s -> %s', (status, retryable) => {
    expect(isRetryableStatus(status)).toBe(retryable);
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

  it.each([
    ['3', 3000],
    [new Date(Date.UTC(2030, 0, 1, 0, 0, 10)).toUTCString(), 10_000],
    [undefined, undefined],
    ['soon', undefined],
  ])('Retry-After %s', (value, expected) => {
    expect(parseRetryAfter(value, Date.UTC(2030, 0, 1))).toBe(expected);
  });
});

describe('backoffDelay', () => {
  it('backs off exponentially with jitter, capped, at least Retry-After', () => {
    const opts = { attempts: 5, baseDelayMs: 100, maxDelayMs: 1000 };
    expect(backoffDelay(1, opts, undefined, () => 0)).toBe(50);
    expect(backoffDelay(3, opts, undefined, () => 1)).toBe(400);
    expect(backoffDelay(10, opts, undefined, () => 1)).toBe(1000);
    expect(backoffDelay(1, opts, 2500, () => 0)).toBe(2500);
  });

  it('caps Retry-After at maxRetryAfterMs when given', () => {
    expect(backoffDelay(1, { attempts: 5, baseDelayMs: 100, maxDelayMs: 1000, maxRetryAfterMs: 1000 }, 2500, () => 0)).toBe(1000);
  });
});

describe('withRetry', () => {
  const retryable = Object.assign(new Error('again'), { retryable: true });
  const isRetryable = (error: unknown) => (error as { retryable?: boolean }).retryable === true;
  const noSleep = async () => undefined;

  it('stops after the attempt budget and on non-retryable errors', async () => {
    let calls = 0;
    await expect(
      withRetry(() => (calls++, Promise.reject(retryable)), { attempts: 3, baseDelayMs: 1, isRetryable, sleep: noSleep }),
    ).rejects.toBe(retryable);
    expect(calls).toBe(3);
    calls = 0;
    await expect(
      withRetry(() => (calls++, Promise.reject(new Error('final'))), { attempts: 3, baseDelayMs: 1, isRetryable }),
    ).rejects.toThrow('final');
    expect(calls).toBe(1);
  });

  it('does not count an attempt that made progress: a link that keeps advancing finishes', async () => {
    let calls = 0;
    const result = await withRetry(
      async () => {
        calls++;
        if (calls < 6) throw retryable;
        return 'done';
      },
      { attempts: 2, baseDelayMs: 1, isRetryable, sleep: noSleep, madeProgress: () => true },
    );
    expect(result).toBe('done');
    expect(calls).toBe(6);
  });

  it('waits what the error asks for (retryAfterMs) and stops when that exceeds the time budget', async () => {
    let calls = 0;
    const slow = Object.assign(new Error('503'), { retryable: true, retryAfterMs: 60_000 });
    await expect(
      withRetry(() => (calls++, Promise.reject(slow)), { attempts: 10, baseDelayMs: 1, maxTotalMs: 1000, isRetryable }),
    ).rejects.toBe(slow);
    expect(calls).toBe(1);
  });
});
