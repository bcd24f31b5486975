import type { Instruction } from 'dockerfile-ast';

export interface ArgPosition {
  line: number;
  character: number;
}

export interface ArgWord {
  /** `name` or `name=value`, quotes kept. */
  value: string;
  start: ArgPosition;
  end: ArgPosition;
}

/**
 * The words of an `ARG` instruction (`ARG a`, `ARG a=1 b="x y"`), one per
 * declaration, with their ranges. dockerfile-ast splits words on whitespace
 * also inside quotes, so quoted pieces are joined again.
 */
export function argWords(instruction: Instruction): ArgWord[] {
  const words: ArgWord[] = [];
  let pending: ArgWord | undefined;
  for (const argument of instruction.getArguments()) {
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
