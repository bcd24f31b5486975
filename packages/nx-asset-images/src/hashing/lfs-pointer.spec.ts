import { describe, expect, it } from 'vitest';
import { mayBeLfsPointer, parseLfsPointer, type LfsPointerParse } from './lfs-pointer';

const OID = '4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393';
const V1 = 'version https://git-lfs.github.com/spec/v1';

describe('parseLfsPointer', () => {
  const cases: Array<[string, string, LfsPointerParse]> = [
    [
      'a v1 pointer as git lfs writes it',
      `${V1}\noid sha256:${OID}\nsize 12345\n`,
      { kind: 'pointer', pointer: { sha256: OID, size: 12345 } },
    ],
    [
      'the predecessor version line',
      `version https://hawser.github.com/spec/v1\noid sha256:${OID}\nsize 0\n`,
      { kind: 'pointer', pointer: { sha256: OID, size: 0 } },
    ],
    [
      'extra keys are kept out of the way',
      `${V1}\next-0-foo sha256:${OID}\noid sha256:${OID}\nsize 7\n`,
      { kind: 'pointer', pointer: { sha256: OID, size: 7 } },
    ],
    ['a weight file', '\u0000\u0001binary', { kind: 'not-pointer' }],
    ['text that mentions the spec later', `hello\n${V1}\n`, { kind: 'not-pointer' }],
    ['another version', `version https://git-lfs.github.com/spec/v2\noid sha256:${OID}\nsize 1\n`, { kind: 'not-pointer' }],
    ['an empty file', '', { kind: 'not-pointer' }],
    ['no trailing newline', `${V1}\noid sha256:${OID}\nsize 1`, { kind: 'malformed', reason: 'the last line does not end with a newline' }],
    ['no oid', `${V1}\nsize 1\n`, { kind: 'malformed', reason: 'no "oid" line' }],
    ['no size', `${V1}\noid sha256:${OID}\n`, { kind: 'malformed', reason: 'no "size" line' }],
    [
      'an sha1 oid',
      `${V1}\noid sha1:${OID.slice(0, 40)}\nsize 1\n`,
      { kind: 'malformed', reason: `oid "sha1:${OID.slice(0, 40)}" is not sha256:<64 lowercase hex digits>` },
    ],
    [
      'an uppercase oid',
      `${V1}\noid sha256:${OID.toUpperCase()}\nsize 1\n`,
      { kind: 'malformed', reason: `oid "sha256:${OID.toUpperCase()}" is not sha256:<64 lowercase hex digits>` },
    ],
    ['a negative size', `${V1}\noid sha256:${OID}\nsize -1\n`, { kind: 'malformed', reason: 'size "-1" is not a whole number of bytes' }],
    [
      'a size with a leading zero',
      `${V1}\noid sha256:${OID}\nsize 012\n`,
      { kind: 'malformed', reason: 'size "012" is not a whole number of bytes' },
    ],
    [
      'a size beyond 2^53',
      `${V1}\noid sha256:${OID}\nsize 9007199254740993\n`,
      { kind: 'malformed', reason: 'size "9007199254740993" is not a whole number of bytes' },
    ],
    ['a line without a space', `${V1}\noid\nsize 1\n`, { kind: 'malformed', reason: 'line 2 is not "key value"' }],
    ['CRLF line ends', `${V1}\r\noid sha256:${OID}\r\nsize 1\r\n`, { kind: 'not-pointer' }],
    ['a repeated key', `${V1}\noid sha256:${OID}\noid sha256:${OID}\nsize 1\n`, { kind: 'malformed', reason: 'key "oid" appears twice' }],
  ];
  it.each(cases)('%s', (_name, text, expected) => {
    expect(parseLfsPointer(text)).toEqual(expected);
    expect(parseLfsPointer(Buffer.from(text))).toEqual(expected);
  });

  it('a file of 1024 bytes or more is never a pointer', () => {
    const text = `${V1}\noid sha256:${OID}\nsize 1\nx-pad ${'a'.repeat(1024)}\n`;
    expect(parseLfsPointer(text)).toEqual({ kind: 'not-pointer' });
  });
});

describe('mayBeLfsPointer', () => {
  it.each([
    [0, false],
    [1, true],
    [130, true],
    [1023, true],
    [1024, false],
    [16 * 1024 * 1024, false],
  ])('size %d -> %s', (size, expected) => expect(mayBeLfsPointer(size)).toBe(expected));
});
