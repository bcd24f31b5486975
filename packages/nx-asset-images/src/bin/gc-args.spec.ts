import { describe, expect, it } from 'vitest';
import { parseGcArgs, UsageError } from './gc-args';

describe('parseGcArgs', () => {
  it.each([
    { argv: [], args: { dryRun: false, docker: true } },
    { argv: ['--dry-run'], args: { dryRun: true, docker: true } },
    { argv: ['--history', '0'], args: { dryRun: false, docker: true, history: 0 } },
    { argv: ['--history=5', '--no-docker'], args: { dryRun: false, docker: false, history: 5 } },
    { argv: ['--timeout', '30'], args: { dryRun: false, docker: true, timeoutMs: 30_000 } },
  ])('$argv', ({ argv, args }) => {
    expect(parseGcArgs(argv)).toEqual(args);
  });

  it.each([[['--history', '-1']], [['--history', 'two']], [['--history']], [['--bogus']], [['extra']], [['--timeout', '1.5']]])(
    '%j is a usage error',
    (argv) => {
      expect(() => parseGcArgs(argv)).toThrow(UsageError);
    },
  );
});
