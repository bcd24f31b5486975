import type { Instruction } from 'dockerfile-ast';
import { dockerfileAst } from './dockerfile-ast';

export interface WordPosition {
  line: number;
  character: number;
}

export interface InstructionWord {
  /** The word as written (quotes and escapes kept); for ARG `name` or `name=value`. */
  value: string;
  start: WordPosition;
  end: WordPosition;
}

/**
 * Every word after an instruction's keyword, flags included, over
 * continuation lines and the comment lines inside them, with their ranges.
 *
 * dockerfile-ast's `getArguments()` drops the flags of COPY, ADD, RUN and
 * FROM (and its `getFromFlag()`/`getPlatformFlag()` see a flag only when it
 * is the only one), so the words come from the base `Instruction`'s reader,
 * which knows no flags. That reader splits words on whitespace also inside
 * quotes, so quoted pieces are joined again (with one space).
 */
export function instructionWords(instruction: Instruction): InstructionWord[] {
  const words: InstructionWord[] = [];
  let pending: InstructionWord | undefined;
  for (const argument of dockerfileAst().Instruction.prototype.getArguments.call(instruction)) {
    const range = argument.getRange();
    pending =
      pending === undefined
        ? { value: argument.getValue(), start: range.start, end: range.end }
        : { ...pending, value: `${pending.value} ${argument.getValue()}`, end: range.end };
    if (!hasOpenQuote(pending.value)) {
      words.push(pending);
      pending = undefined;
    }
  }
  if (pending !== undefined) words.push(pending);
  return words;
}

function hasOpenQuote(word: string): boolean {
  let quote: string | undefined;
  for (let i = 0; i < word.length; i++) {
    const ch = word[i]!;
    if (quote === undefined) {
      if (ch === '\\') i++;
      else if (ch === '"' || ch === "'") quote = ch;
    } else if (ch === quote) {
      quote = undefined;
    } else if (quote === '"' && ch === '\\') {
      i++;
    }
  }
  return quote !== undefined;
}
