import { describe, it, expect } from 'vitest';
import { dockerfileAst } from './dockerfile-ast';
import { instructionFlags, unquoteFlagWord } from './instruction-flags';

/** [name, value] per flag, and the operands, of the first instruction after `FROM scratch`. */
function read(instructionText: string, prefix = ''): { flags: [string, string | undefined][]; operands: string[] } {
  const dockerfile = dockerfileAst().DockerfileParser.parse(`${prefix}FROM scratch\n${instructionText}\n`);
  const instruction = dockerfile.getInstructions()[1]!;
  const { flags, operands } = instructionFlags(instruction, dockerfile.getEscapeCharacter());
  return { flags: flags.map((f) => [f.name, f.value]), operands: operands.map((w) => w.value) };
}

describe('instructionFlags (BuildKit: extractBuilderFlags + BFlags)', () => {
  it.each<[string, string, [string, string | undefined][], string[]]>([
    ['one flag', 'COPY --from=a/b:1 / /x/', [['from', 'a/b:1']], ['/', '/x/']],
    [
      'bool then --from',
      'COPY --link --from=a/b:1 / /x/',
      [
        ['link', undefined],
        ['from', 'a/b:1'],
      ],
      ['/', '/x/'],
    ],
    [
      '--from then bool',
      'COPY --from=a/b:1 --link / /x/',
      [
        ['from', 'a/b:1'],
        ['link', undefined],
      ],
      ['/', '/x/'],
    ],
    [
      'repeated --exclude',
      'COPY --exclude=*.txt --exclude=*.md --from=a / /',
      [
        ['exclude', '*.txt'],
        ['exclude', '*.md'],
        ['from', 'a'],
      ],
      ['/', '/'],
    ],
    [
      'quoted value with a space',
      'COPY --chown="a b" --from=a / /',
      [
        ['chown', 'a b'],
        ['from', 'a'],
      ],
      ['/', '/'],
    ],
    ['single quotes', "COPY --from='a/b:1' / /", [['from', 'a/b:1']], ['/', '/']],
    [
      'continuation lines',
      'COPY --chown=1:1 \\\n    --from=a/b:1 \\\n    / /x/',
      [
        ['chown', '1:1'],
        ['from', 'a/b:1'],
      ],
      ['/', '/x/'],
    ],
    [
      'comment line inside a continuation',
      'RUN --network=none \\\n# a comment\n  --mount=type=bind,from=a,target=/m true',
      [
        ['network', 'none'],
        ['mount', 'type=bind,from=a,target=/m'],
      ],
      ['true'],
    ],
    [
      'lowercase instruction',
      'copy --link --from=a / /',
      [
        ['link', undefined],
        ['from', 'a'],
      ],
      ['/', '/'],
    ],
    ['a lone -- ends the flags', 'COPY --link -- --from=a /d', [['link', undefined]], ['--from=a', '/d']],
    ['flags end at the first operand', 'COPY /src --from=a /d', [], ['/src', '--from=a', '/d']],
    ['a source with -- inside is an operand', 'COPY --link /a--b --from=x /d', [['link', undefined]], ['/a--b', '--from=x', '/d']],
    ['empty value', 'COPY --from= / /', [['from', '']], ['/', '/']],
    [
      'variables are kept for expansion',
      'COPY --from=${REG}/m:$V --chown=${UID} / /',
      [
        ['from', '${REG}/m:$V'],
        ['chown', '${UID}'],
      ],
      ['/', '/'],
    ],
    ['names are case-sensitive', 'COPY --FROM=a / /', [['FROM', 'a']], ['/', '/']],
    [
      'FROM --platform and AS',
      'FROM --platform=$BUILDPLATFORM node:20 AS build',
      [['platform', '$BUILDPLATFORM']],
      ['node:20', 'AS', 'build'],
    ],
  ])('%s', (_name, text, flags, operands) => {
    expect(read(text)).toEqual({ flags, operands });
  });

  it('honours the escape directive', () => {
    expect(read('COPY --chown=1:1 `\n  --from=a/b:1 / /', '# escape=`\n')).toEqual({
      flags: [
        ['chown', '1:1'],
        ['from', 'a/b:1'],
      ],
      operands: ['/', '/'],
    });
  });

  it.each<[string, string, string]>([
    ['plain', 'a/b:1', 'a/b:1'],
    ['double quotes', '"a/b:1"', 'a/b:1'],
    ['quotes in the middle', 'type=bind,"from=a"', 'type=bind,from=a'],
    ['escaped quote', '\\"a', '"a'],
    ['other quote inside', `"it's"`, "it's"],
  ])('unquoteFlagWord: %s', (_name, word, expected) => {
    expect(unquoteFlagWord(word, '\\')).toBe(expected);
  });
});
