import { describe, expect, it } from 'vitest';
import { createProgressRenderer, describeProgress, formatBytes, progressBar } from './progress-renderer';

function fakeStream(isTTY: boolean) {
  const writes: string[] = [];
  return { writes, stream: { isTTY, write: (s: string) => (writes.push(s), true) } as unknown as NodeJS.WriteStream };
}

describe('progress renderer', () => {
  it.each([
    [0, '0 B'],
    [2048, '2.0 KiB'],
    [5 * 1024 * 1024, '5.0 MiB'],
    [3 * 1024 ** 3, '3.00 GiB'],
  ])('formats %d bytes as %s', (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });

  it('describes bytes, total, percent and rate', () => {
    const line = describeProgress('model.bin', { startedAt: 0, bytes: 512 * 1024 * 1024, total: 1024 ** 3 }, 1000);
    expect(line).toBe('model.bin: 512.0 MiB / 1.00 GiB (50%) at 512.0 MiB/s');
  });

  it('draws a bar proportional to the fraction', () => {
    expect(progressBar(0.5, 10)).toBe('[#####.....]');
    expect(progressBar(2, 4)).toBe('[####]');
  });

  it('prints periodic plain lines when not a TTY', () => {
    let t = 0;
    const { writes, stream } = fakeStream(false);
    const r = createProgressRenderer({ stream, lineIntervalMs: 1000, now: () => t });
    r.onProgress({ label: 'a', bytes: 1, total: 10 }); // at start: skipped, quick work prints only its summary
    t = 1000;
    r.onProgress({ label: 'a', bytes: 5, total: 10 });
    t = 1500;
    r.onProgress({ label: 'a', bytes: 6, total: 10 }); // too soon: skipped
    t = 2000;
    r.onProgress({ label: 'a', bytes: 8, total: 10 });
    expect(writes).toHaveLength(2);
    expect(writes.every((w) => w.endsWith('\n') && !w.includes('\r'))).toBe(true);
    expect(writes[1]).toContain('(80%)');
  });

  it('redraws one line with a bar on a TTY', () => {
    let t = 0;
    const { writes, stream } = fakeStream(true);
    const r = createProgressRenderer({ stream, now: () => t });
    r.onProgress({ label: 'a', bytes: 5, total: 10 });
    t = 200;
    r.onProgress({ label: 'a', bytes: 10, total: 10 });
    r.finish();
    expect(writes[0].startsWith('\r[')).toBe(true);
    expect(writes[1]).toContain('[########################]');
    expect(writes.at(-1)).toBe('\r\x1b[K');
  });
});
