import { describe, expect, it } from 'vitest';
import { progressRate } from './download-progress';

const base = { label: 'model.bin', url: 'https://h/model.bin', sha256: 'a'.repeat(64), done: false };

describe('progressRate', () => {
  it('averages over the bytes of this run and derives the ETA', () => {
    const rate = progressRate({ ...base, bytes: 3_000, total: 10_000, resumedFrom: 1_000, startedAt: 0 }, 2_000);
    expect(rate.bytesPerSecond).toBe(1_000);
    expect(rate.etaSeconds).toBe(7);
  });

  it('has no ETA without a total or before any byte', () => {
    expect(progressRate({ ...base, bytes: 500, resumedFrom: 0, startedAt: 0 }, 1_000)).toEqual({ bytesPerSecond: 500 });
    expect(progressRate({ ...base, bytes: 0, total: 10, resumedFrom: 0, startedAt: 0 }, 1_000)).toEqual({ bytesPerSecond: 0 });
  });
});
