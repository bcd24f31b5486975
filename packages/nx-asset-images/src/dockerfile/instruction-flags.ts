/**
 * The flags of a Dockerfile instruction (`COPY --link --from=img / /`), read
 * the way BuildKit's parser reads them (`extractBuilderFlags` and `BFlags`):
 * the leading words that start with `--`, in any order, up to the first word
 * that does not or a lone `--`; quotes are removed and the escape character
 * keeps the next character. Names are case-sensitive, as in BuildKit.
 */
import type { Instruction } from 'dockerfile-ast';
import { instructionWords, type InstructionWord } from './instruction-words';

export interface InstructionFlag {
  /** Without the dashes: `from`, `mount`, `link`. */
  readonly name: string;
  /** After `=`, quotes removed; `undefined` for a flag without `=` (`--link`). */
  readonly value: string | undefined;
  /** After `=` as written (quotes and escapes kept); `undefined` without `=`. */
  readonly raw: string | undefined;
}

export interface FlagsAndOperands {
  readonly flags: readonly InstructionFlag[];
  /** The words after the flags (and after a lone `--`), as written. */
  readonly operands: readonly InstructionWord[];
}

export function instructionFlags(instruction: Instruction, escapeChar: string): FlagsAndOperands {
  const words = instructionWords(instruction);
  const flags: InstructionFlag[] = [];
  let i = 0;
  for (; i < words.length; i++) {
    const word = words[i]!.value;
    if (word === '--') {
      i++;
      break;
    }
    if (!word.startsWith('--')) break;
    const eq = word.indexOf('=');
    if (eq === -1) {
      flags.push({ name: unquoteFlagWord(word.slice(2), escapeChar), value: undefined, raw: undefined });
    } else {
      const raw = word.slice(eq + 1);
      flags.push({ name: unquoteFlagWord(word.slice(2, eq), escapeChar), value: unquoteFlagWord(raw, escapeChar), raw });
    }
  }
  return { flags, operands: words.slice(i) };
}

/** BuildKit's flag word rule: `'` and `"` quote (and are removed); the escape character takes the next character as it is. */
export function unquoteFlagWord(word: string, escapeChar: string): string {
  let out = '';
  let quote: string | undefined;
  for (let i = 0; i < word.length; i++) {
    const ch = word[i]!;
    if (ch === escapeChar && i + 1 < word.length) {
      out += word[++i];
    } else if (quote === undefined && (ch === '"' || ch === "'")) {
      quote = ch;
    } else if (ch === quote) {
      quote = undefined;
    } else if (ch !== escapeChar) {
      out += ch;
    }
  }
  return out;
}
