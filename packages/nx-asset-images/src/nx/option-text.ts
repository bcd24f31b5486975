/**
 * Text options as the user wrote them on the command line.
 *
 * Nx parses options it does not declare with yargs' default number parsing:
 * `nx g` (the top-level parser sets only `strip-dashed`) and the overrides of
 * `nx run`/`run-many`/`affected` (`createOverrides`). So `--tags=0.1` reaches
 * a generator or executor as the number 0.1, `--tags=1.0` as 1 and
 * `--tags=2.10` as 2.1, and a schema typed `string` fails before our code
 * runs. No schema type or `x-` hint changes that: Nx's `coerceType` turns a
 * numeric string into a number for `type: ["string", "number"]` or `oneOf`
 * and leaves values alone only under `anyOf`. So text options that users may
 * write as numbers say `anyOf: [string, number]`, and a number is read back
 * from the words as written, never rounded:
 * - `nx g` runs the generator in the CLI process: `process.argv`;
 * - an executor may run in a forked process whose argv holds none of it, but
 *   its task in `context.taskGraph` keeps `overrides.__overrides_unparsed__`.
 */
import type { ExecutorContext } from './devkit';

export class OptionTextLostError extends Error {
  override readonly name = 'OptionTextLostError';
  constructor(
    readonly option: string,
    readonly value: number,
  ) {
    super(
      `Invalid --${option} ${value}: it arrived as the number ${value}, and the text it was written as is not on the command line ` +
        `(a number loses it: 1.0 becomes 1, 2.10 becomes 2.1). Give it as a JSON string where it is set ` +
        `(nx.json or project.json options, or the calling code: "${value}" in quotes), or on the command line as --${option}=<text>.`,
    );
  }
}

const kebab = (name: string): string => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/**
 * The text of option `option` whose parsed value is `value`: a string as it
 * is; a number as written in `words` (`--opt=x`, `--opt x`, `--opt-kebab=x`,
 * or for a `positional` option a bare word) when exactly one written text
 * gives that number; else `OptionTextLostError`.
 */
export function optionAsWritten(
  option: string,
  value: string | number | undefined,
  words: readonly string[],
  positional = false,
): string | undefined {
  if (typeof value !== 'number') return value;
  const flags = new Set([`--${option}`, `--${kebab(option)}`]);
  const written = new Set<string>();
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    const eq = word.indexOf('=');
    if (eq !== -1 && flags.has(word.slice(0, eq))) written.add(word.slice(eq + 1));
    else if (flags.has(word) && i + 1 < words.length) written.add(words[++i]!);
    else if (positional && !word.startsWith('-')) written.add(word);
  }
  const matches = [...written].filter((text) => text.trim() !== '' && Number(text) === value);
  if (matches.length !== 1) throw new OptionTextLostError(option, value);
  return matches[0];
}

export interface AsWrittenOptions<K> {
  /** The option Nx may fill from a bare word (`nx g x:asset <name>`). */
  positional?: K;
  /** Array options: a lone number becomes a list, split on commas as Nx splits a lone string. */
  arrays?: readonly K[];
}

/**
 * `options` with each of `names` as written (see `optionAsWritten`): a
 * number, each number in an array (`--tags=0.1 --tags=0.2`) and each number
 * in an object (`--buildArgs.V=1.0`). Other options are left alone.
 */
export function optionsAsWritten<T extends object>(
  options: T,
  names: readonly (keyof T & string)[],
  words: readonly string[],
  { positional, arrays = [] }: AsWrittenOptions<keyof T & string> = {},
): T {
  const out = { ...options } as Record<string, unknown>;
  for (const name of names) {
    const value = out[name];
    if (value === undefined) continue;
    const asWritten = (option: string, v: unknown): unknown =>
      typeof v === 'number' ? optionAsWritten(option, v, words, name === positional) : v;
    if (Array.isArray(value)) out[name] = value.map((v) => asWritten(name, v));
    else if (value !== null && typeof value === 'object') {
      out[name] = Object.fromEntries(Object.entries(value).map(([key, v]) => [key, asWritten(`${name}.${key}`, v)]));
    } else if (typeof value === 'number' && arrays.includes(name)) out[name] = String(asWritten(name, value)).split(',');
    else out[name] = asWritten(name, value);
  }
  return out as T;
}

/** The words of the `nx g` command line this process runs (a generator runs in the CLI process). */
export function commandLineWords(): string[] {
  return process.argv.slice(2);
}

/** The override words of the task `context` runs (`nx run p:t --tags=1.0` -> `["--tags=1.0"]`), as Nx keeps them in its task graph. */
export function taskOverrideWords(
  context: Pick<ExecutorContext, 'taskGraph' | 'projectName' | 'targetName' | 'configurationName'>,
): string[] {
  const id = [context.projectName, context.targetName, context.configurationName].filter((part) => part !== undefined).join(':');
  const overrides = context.taskGraph?.tasks[id]?.overrides as { __overrides_unparsed__?: unknown } | undefined;
  const words = overrides?.__overrides_unparsed__;
  return Array.isArray(words) ? words.filter((word): word is string => typeof word === 'string') : [];
}
