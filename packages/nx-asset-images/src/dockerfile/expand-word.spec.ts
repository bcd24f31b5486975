import { describe, it, expect } from 'vitest';
import { expandWord, type VariableLookup } from './expand-word';

const vars: Record<string, string | null> = { V: '1.0', EMPTY: '', NODEF: null, REG: 'localhost:5000', SP: 'a b' };
const lookup: VariableLookup = (name) => vars[name];

describe('expandWord', () => {
  it.each<[string, string]>([
    ['plain', 'plain'],
    ['node:$V', 'node:1.0'],
    ['node:${V}-alpine', 'node:1.0-alpine'],
    ['$REG/asset/x:$V', 'localhost:5000/asset/x:1.0'],
    ['${MISSING:-dflt}', 'dflt'],
    ['${MISSING-dflt}', 'dflt'],
    ['${NODEF:-dflt}', 'dflt'],
    ['${EMPTY:-dflt}', 'dflt'],
    ['${EMPTY-dflt}', ''],
    ['${V:-dflt}', '1.0'],
    ['${V:+alt}', 'alt'],
    ['${EMPTY:+alt}', ''],
    ['${EMPTY+alt}', 'alt'],
    ['${MISSING:+alt}', ''],
    ['${V:?required}', '1.0'],
    ['${MISSING:-${V}}', '1.0'],
    ['${MISSING:-$REG/x}', 'localhost:5000/x'],
    ['${V:-$UNKNOWN}', '1.0'],
    ['"quoted $V"', 'quoted 1.0'],
    ["'single $V'", 'single $V'],
    ['\\$V', '$V'],
    ['"\\$V"', '$V'],
    ['$', '$'],
    ['a$-b', 'a$-b'],
    ['${SP}', 'a b'],
  ])('%s -> %s', (word, expected) => {
    expect(expandWord(word, lookup)).toEqual({ ok: true, value: expected });
  });

  it('uses the escape character given (`# escape=`)', () => {
    expect(expandWord('`$V', lookup, '`')).toEqual({ ok: true, value: '$V' });
    expect(expandWord('\\$V', lookup, '`')).toEqual({ ok: true, value: '\\1.0' });
  });

  it.each<[string, string[], RegExp]>([
    ['$MISSING', ['MISSING'], /\$MISSING is not declared/],
    ['${NODEF}', ['NODEF'], /\$NODEF has no default value/],
    ['node:${A}-${B}', ['A', 'B'], /\$A .*\$B /],
    ['${MISSING:?must be set}', ['MISSING'], /not declared/],
    ['${MISSING:-$ALSO}', ['ALSO'], /\$ALSO/],
    ['${V#1}', ['V'], /unsupported substitution/],
    ['${V', [], /missing "}"/],
    ['${}', [], /bad substitution/],
    ['"open', [], /unterminated double quote/],
    ["'open", [], /unterminated single quote/],
  ])('%s is unresolved', (word, names, reason) => {
    const result = expandWord(word, lookup);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.unresolved).toEqual(names);
    expect(result.reason).toMatch(reason);
  });
});
