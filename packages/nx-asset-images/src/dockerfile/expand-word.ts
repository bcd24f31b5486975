/**
 * Variable expansion of one Dockerfile word, following BuildKit's shell lexer
 * (moby/buildkit frontend/dockerfile/shell/lex.go) for the subset that matters
 * for image references: quotes, the escape character, `$VAR`, `${VAR}`,
 * `${VAR:-word}`, `${VAR-word}`, `${VAR:+word}`, `${VAR+word}`,
 * `${VAR:?msg}`, `${VAR?msg}`.
 *
 * Hand-written because dockerfile-ast reports where variables are but does not
 * expand them (its `resolveVariable` ignores `:-` defaults and ARG scoping
 * across stages).
 *
 * The values come from ARG defaults and ENV values only (no `--build-arg`):
 * a variable without a known value is reported as unresolved, never guessed
 * to be empty. Pure.
 */

/** `string`: known value; `null`: declared (ARG without default) but no known value; `undefined`: not declared. */
export type VariableLookup = (name: string) => string | null | undefined;

export type Expansion = { ok: true; value: string } | { ok: false; unresolved: readonly string[]; reason: string };

class Unresolved extends Error {
  constructor(
    readonly names: string[],
    readonly reason: string,
  ) {
    super(reason);
  }
}

const NAME_START = /[A-Za-z_]/;
const NAME_CHAR = /[A-Za-z0-9_]/;

export function expandWord(word: string, lookup: VariableLookup, escapeChar = '\\'): Expansion {
  const lexer = new Lexer(word, lookup, escapeChar);
  try {
    const value = lexer.word(undefined);
    if (lexer.pos < word.length) throw new Unresolved([], `unexpected "${word[lexer.pos]}" at offset ${lexer.pos}`);
    if (lexer.unresolved.length > 0) {
      return { ok: false, unresolved: [...new Set(lexer.unresolved)], reason: lexer.reasons.join('; ') };
    }
    return { ok: true, value };
  } catch (error) {
    if (error instanceof Unresolved) {
      const names = [...new Set([...lexer.unresolved, ...error.names])];
      return { ok: false, unresolved: names, reason: [...lexer.reasons, error.reason].join('; ') };
    }
    throw error;
  }
}

class Lexer {
  pos = 0;
  readonly unresolved: string[] = [];
  readonly reasons: string[] = [];

  constructor(
    private readonly input: string,
    private readonly lookup: VariableLookup,
    private readonly escape: string,
  ) {}

  private peek(): string | undefined {
    return this.input[this.pos];
  }

  /** Reads until `stop` (not consumed) or the end. */
  word(stop: string | undefined): string {
    let out = '';
    while (this.pos < this.input.length) {
      const ch = this.input[this.pos]!;
      if (stop !== undefined && ch === stop) return out;
      if (ch === this.escape) {
        this.pos++;
        if (this.pos < this.input.length) out += this.input[this.pos++];
        else out += ch;
      } else if (ch === "'") {
        out += this.singleQuoted();
      } else if (ch === '"') {
        out += this.doubleQuoted();
      } else if (ch === '$') {
        out += this.dollar();
      } else {
        out += ch;
        this.pos++;
      }
    }
    if (stop !== undefined) throw new Unresolved([], `missing "${stop}"`);
    return out;
  }

  private singleQuoted(): string {
    this.pos++;
    const end = this.input.indexOf("'", this.pos);
    if (end === -1) throw new Unresolved([], 'unterminated single quote');
    const out = this.input.slice(this.pos, end);
    this.pos = end + 1;
    return out;
  }

  private doubleQuoted(): string {
    this.pos++;
    let out = '';
    while (this.pos < this.input.length) {
      const ch = this.input[this.pos]!;
      if (ch === '"') {
        this.pos++;
        return out;
      }
      if (ch === '$') {
        out += this.dollar();
      } else if (ch === this.escape) {
        const next = this.input[this.pos + 1];
        if (next === '"' || next === '$' || next === this.escape) {
          out += next;
          this.pos += 2;
        } else {
          out += ch;
          this.pos++;
        }
      } else {
        out += ch;
        this.pos++;
      }
    }
    throw new Unresolved([], 'unterminated double quote');
  }

  private name(): string {
    let name = '';
    if (this.pos < this.input.length && NAME_START.test(this.input[this.pos]!)) {
      while (this.pos < this.input.length && NAME_CHAR.test(this.input[this.pos]!)) name += this.input[this.pos++];
    }
    return name;
  }

  private value(name: string): string | null | undefined {
    return this.lookup(name);
  }

  private miss(name: string, declared: string | null | undefined): string {
    this.unresolved.push(name);
    this.reasons.push(declared === null ? `$${name} has no default value` : `$${name} is not declared`);
    return '';
  }

  private dollar(): string {
    this.pos++; // '$'
    if (this.peek() !== '{') {
      const name = this.name();
      if (name === '') return '$';
      const v = this.value(name);
      return typeof v === 'string' ? v : this.miss(name, v);
    }
    this.pos++; // '{'
    const name = this.name();
    if (name === '') throw new Unresolved([], 'bad substitution: missing variable name in "${"');
    const v = this.value(name);
    const ch = this.peek();
    if (ch === undefined) throw new Unresolved([], 'missing "}"');
    if (ch === '}') {
      this.pos++;
      return typeof v === 'string' ? v : this.miss(name, v);
    }
    let colon = false;
    if (ch === ':') {
      colon = true;
      this.pos++;
    }
    const op = this.peek();
    if (op === '-' || op === '+' || op === '?') {
      this.pos++;
      const mark = this.unresolved.length;
      const word = this.word('}');
      this.pos++; // '}'
      const set = typeof v === 'string' && (!colon || v !== '');
      // The word is only evaluated when it is used (as in sh): forget its misses otherwise.
      if ((op === '-' && set) || (op === '+' && !set) || op === '?') {
        this.unresolved.length = mark;
        this.reasons.length = mark;
      }
      switch (op) {
        case '-':
          return set ? (v as string) : word;
        case '+':
          return set ? word : '';
        case '?':
          return set ? (v as string) : this.miss(name, v);
      }
    }
    throw new Unresolved([name], `unsupported substitution in "\${${name}${colon ? ':' : ''}${op ?? ''}..."`);
  }
}
