/**
 * Reads a Dockerfile once into a `ParsedDockerfile`.
 *
 * Lexing (line continuations, the `# escape=` directive, comments, heredocs,
 * instruction flags) is done by `dockerfile-ast`. On top of it this file adds
 * what Docker's builder does and the library does not: ARG scoping (global
 * ARGs in FROM lines; per stage only once redeclared), variable expansion with
 * defaults (`expand-word.ts`), stage-name resolution, instruction flags in
 * any number and order (`instruction-flags.ts`: dockerfile-ast's
 * `getFromFlag()`/`getPlatformFlag()` return a flag only when it is the only
 * one), `--mount` CSV fields and ARG lines with several names
 * (dockerfile-ast's `Arg.getProperty` reads `ARG A B=2` with the legacy ENV
 * `name value` syntax). ADD has no `--from` and never names an image.
 *
 * Pure and tolerant: problems become `warnings`; only a failure inside the
 * library itself throws, as `DockerfileParseError`.
 */
import type { Copy, Instruction, Run, Env } from 'dockerfile-ast';
import { parseImageReference, InvalidImageReferenceError, type ImageReference } from '../oci/image-reference';
import { dockerfileAst } from './dockerfile-ast';
import { instructionFlags, type InstructionFlag } from './instruction-flags';
import { instructionWords } from './instruction-words';
import { expandWord, type VariableLookup } from './expand-word';
import type {
  DockerfileArg,
  DockerfileImageReference,
  DockerfileStage,
  DockerfileWarning,
  DockerfileWarningCode,
  ImageReferenceKind,
  ParsedDockerfile,
  StageBase,
} from './parsed-dockerfile';

export class DockerfileParseError extends Error {
  override readonly name = 'DockerfileParseError';
  constructor(
    readonly fileName: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`Cannot parse Dockerfile ${fileName}: ${reason}`, options);
  }
}

const STAGE_NAME_RE = /^[a-z][a-z0-9._-]*$/;

interface StageScope {
  index: number;
  args: Map<string, string | null>;
  env: Map<string, string | null>;
}

export function parseDockerfile(text: string, fileName: string): ParsedDockerfile {
  let instructions: Instruction[];
  let escapeChar: string;
  const directives: Record<string, string> = {};
  try {
    const dockerfile = dockerfileAst().DockerfileParser.parse(text);
    instructions = dockerfile.getInstructions();
    escapeChar = dockerfile.getEscapeCharacter();
    for (const directive of dockerfile.getDirectives()) directives[directive.getName().toLowerCase()] = directive.getValue();
  } catch (error) {
    throw new DockerfileParseError(fileName, error instanceof Error ? error.message : String(error), { cause: error });
  }

  const warnings: DockerfileWarning[] = [];
  const warn = (code: DockerfileWarningCode, line: number, message: string): void => {
    warnings.push({ code, line, message });
  };
  const globalArgs: DockerfileArg[] = [];
  const globalValues = new Map<string, string | null>();
  const stages: DockerfileStage[] = [];
  const imageReferences: DockerfileImageReference[] = [];
  let scope: StageScope | undefined;

  // Stage names are known up front so that `COPY --from=<name>` is a stage
  // wherever that stage is declared; `FROM <name>` only sees earlier stages.
  const stageNames = new Map<string, number>();
  {
    let index = 0;
    for (const instruction of instructions) {
      if (instruction.getKeyword() !== 'FROM') continue;
      const name = stageNameOf(instructionFlags(instruction, escapeChar).operands);
      if (name !== undefined && !stageNames.has(name.toLowerCase())) stageNames.set(name.toLowerCase(), index);
      index++;
    }
  }

  const globalLookup: VariableLookup = (name) => globalValues.get(name);
  const stageLookup =
    (s: StageScope): VariableLookup =>
    (name) => {
      if (s.env.has(name)) return s.env.get(name);
      return s.args.get(name);
    };

  const expand = (raw: string, lookup: VariableLookup, line: number, what: string): string | undefined => {
    const result = expandWord(raw, lookup, escapeChar);
    if (result.ok) return result.value;
    warn('unresolved-variable', line, `cannot resolve ${what} "${raw}": ${result.reason}`);
    return undefined;
  };

  const toReference = (resolved: string, line: number): ImageReference | undefined => {
    try {
      return parseImageReference(resolved);
    } catch (error) {
      if (!(error instanceof InvalidImageReferenceError)) throw error;
      warn('invalid-image-reference', line, error.message);
      return undefined;
    }
  };

  /** A `--from` value: a stage (by name or index) or an image. */
  const addFromReference = (raw: string, kind: ImageReferenceKind, line: number, s: StageScope): void => {
    const result = expandWord(raw, stageLookup(s), escapeChar);
    if (!result.ok) {
      warn('unresolved-variable', line, `cannot resolve "${raw}" (a stage or an image): ${result.reason}`);
      imageReferences.push({ raw, unresolved: result.unresolved, kind, line, stage: s.index });
      return;
    }
    const resolved = result.value;
    if (/^\d+$/.test(resolved)) {
      if (Number(resolved) >= s.index) warn('unknown-stage', line, `"${raw}" refers to stage ${resolved}, which is not an earlier stage`);
      return;
    }
    const stageIndex = stageNames.get(resolved.toLowerCase());
    if (stageIndex !== undefined) {
      if (stageIndex === s.index) warn('unknown-stage', line, `"${raw}" refers to the stage it is used in`);
      return;
    }
    const reference = toReference(resolved, line);
    imageReferences.push({ raw, resolved, ...(reference ? { reference } : {}), kind, line, stage: s.index });
  };

  for (const instruction of instructions) {
    const keyword = instruction.getKeyword();
    const line = instruction.getRange().start.line + 1;

    for (const heredoc of heredocsOf(instruction)) {
      if (heredoc.getDelimiterRange() === null) {
        warn('unterminated-heredoc', line, `heredoc <<${heredoc.getName()} is not terminated; the rest of the file is part of it`);
      }
    }

    if (keyword === 'FROM') {
      scope = { index: stages.length, args: new Map(), env: new Map() };
      stages.push(readFrom(instruction, line, scope.index));
      continue;
    }
    if (keyword === 'ARG') {
      for (const { name, rawValue } of argDeclarations(instruction)) {
        if (scope === undefined) {
          const value = rawValue === undefined ? null : (expand(rawValue, globalLookup, line, `ARG ${name}`) ?? null);
          globalValues.set(name, value);
          globalArgs.push({ name, value, line });
        } else {
          const value =
            rawValue === undefined ? (globalValues.get(name) ?? null) : (expand(rawValue, stageLookup(scope), line, `ARG ${name}`) ?? null);
          scope.args.set(name, value);
        }
      }
      continue;
    }
    if (scope === undefined) {
      warn('instruction-before-from', line, `${keyword} before the first FROM (only ARG may come first)`);
      continue;
    }
    if (keyword === 'ENV') {
      const current = scope;
      const values: [string, string | null][] = [];
      for (const property of (instruction as Env).getProperties()) {
        const raw = property.getUnescapedValue();
        const value = raw === null ? '' : (expand(raw, stageLookup(current), line, `ENV ${property.getName()}`) ?? null);
        values.push([property.getName(), value]);
      }
      // All assignments of one ENV line see the values from before it, as in Docker.
      for (const [name, value] of values) current.env.set(name, value);
    } else if (keyword === 'COPY') {
      const froms = instructionFlags(instruction, escapeChar).flags.filter((flag) => flag.name === 'from');
      if (froms.length > 1) warn('malformed-from', line, `COPY has ${froms.length} --from flags (Docker refuses a duplicate flag)`);
      for (const from of froms) {
        if (from.value === undefined || from.value === '') warn('malformed-from', line, 'COPY --from without a value');
        else addFromReference(from.value, 'copy-from', line, scope);
      }
    } else if (keyword === 'RUN') {
      for (const flag of instructionFlags(instruction, escapeChar).flags) {
        if (flag.name !== 'mount') continue;
        const from = mountFrom(flag);
        if (from === undefined) continue;
        if (from === '') warn('malformed-mount', line, `--mount=${flag.raw ?? ''} has an empty from=`);
        else addFromReference(from, 'mount-from', line, scope);
      }
    }
  }

  if (stages.length === 0) warn('no-from', 1, 'no FROM instruction');

  function readFrom(from: Instruction, line: number, index: number): DockerfileStage {
    const { flags, operands } = instructionFlags(from, escapeChar);
    const platform = flags.find((flag) => flag.name === 'platform')?.value || undefined;
    const args = operands.map((word) => word.value);
    const common = { index, line, ...(platform ? { platform } : {}) };
    if (args.length === 0) {
      warn('missing-image', line, 'FROM without an image');
      return { ...common, base: { kind: 'missing' } };
    }
    let name: string | undefined;
    if (args.length === 3 && args[1]!.toLowerCase() === 'as') {
      name = args[2]!.toLowerCase();
      if (!STAGE_NAME_RE.test(name)) {
        warn('invalid-stage-name', line, `invalid stage name "${args[2]}"`);
      } else if (stageNames.get(name) !== index) {
        warn('duplicate-stage-name', line, `stage name "${name}" is already used by stage ${stageNames.get(name)}`);
      }
    } else if (args.length !== 1) {
      warn('malformed-from', line, `FROM expects "image [AS name]", got "${args.join(' ')}"`);
    }
    const raw = args[0]!;
    const withName = { ...common, ...(name !== undefined ? { name } : {}) };
    const result = expandWord(raw, globalLookup, escapeChar);
    if (!result.ok) {
      warn('unresolved-variable', line, `cannot resolve FROM image "${raw}": ${result.reason}`);
      imageReferences.push({ raw, unresolved: result.unresolved, kind: 'from', line, stage: index });
      return { ...withName, base: { kind: 'image', raw } };
    }
    const resolved = result.value;
    if (resolved === '') {
      warn('missing-image', line, `FROM image "${raw}" is empty`);
      return { ...withName, base: { kind: 'missing' } };
    }
    if (resolved.toLowerCase() === 'scratch') return { ...withName, base: { kind: 'scratch', raw } };
    const earlier = stageNames.get(resolved.toLowerCase());
    if (earlier !== undefined && earlier < index) return { ...withName, base: { kind: 'stage', raw, stageIndex: earlier } };
    const reference = toReference(resolved, line);
    imageReferences.push({ raw, resolved, ...(reference ? { reference } : {}), kind: 'from', line, stage: index });
    return { ...withName, base: { kind: 'image', raw, resolved, ...(reference ? { reference } : {}) } as StageBase };
  }

  return deepFreeze({
    fileName,
    escapeChar,
    directives,
    globalArgs,
    stages,
    imageReferences,
    warnings: warnings.sort((a, b) => a.line - b.line),
  });
}

function heredocsOf(instruction: Instruction): { getName(): string; getDelimiterRange(): unknown }[] {
  const keyword = instruction.getKeyword();
  if (keyword === 'RUN') return (instruction as Run).getHeredocs();
  if (keyword === 'COPY') return (instruction as Copy).getHeredocs();
  return [];
}

/** The `<name>` of `FROM <image> AS <name>` as written (dockerfile-ast's `getBuildStage` counts the flags' words as arguments). */
function stageNameOf(operands: readonly { value: string }[]): string | undefined {
  return operands.length > 2 && operands[1]!.value.toLowerCase() === 'as' ? operands[2]!.value : undefined;
}

/** `ARG a`, `ARG a=1 b="x y"`: one declaration per word. */
function argDeclarations(instruction: Instruction): { name: string; rawValue?: string }[] {
  return instructionWords(instruction).map(({ value: word }) => {
    const eq = word.indexOf('=');
    return eq === -1 ? { name: word } : { name: word.slice(0, eq), rawValue: word.slice(eq + 1) };
  });
}

/** The `from=` field of a `--mount` flag (CSV, as BuildKit reads it); `undefined` when absent. */
function mountFrom(flag: InstructionFlag): string | undefined {
  const value = flag.value;
  if (value === undefined) return undefined;
  for (const field of splitCsv(value)) {
    const eq = field.indexOf('=');
    const key = (eq === -1 ? field : field.slice(0, eq)).trim().toLowerCase();
    if (key === 'from') return eq === -1 ? '' : field.slice(eq + 1);
  }
  return undefined;
}

function splitCsv(value: string): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const ch = value[i]!;
    if (quoted) {
      if (ch === '"' && value[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      fields.push(field);
      field = '';
    } else field += ch;
  }
  fields.push(field);
  return fields;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}
