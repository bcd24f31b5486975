/**
 * `--build-arg` values applied to a Dockerfile's text before it is parsed, so
 * that the image references the executor resolves are the ones `docker build`
 * will use. Docker gives a build arg's value to every `ARG` declaration of that
 * name (global or in a stage), replacing its default; undeclared names have no
 * effect. We rewrite exactly those declarations (`ARG NAME` / `ARG NAME=default`
 * become `ARG NAME="value"`), in place, so line numbers do not move. Pure.
 */
import { DockerfileParser } from 'dockerfile-ast';
import { instructionWords } from '../dockerfile/instruction-words';

export function applyBuildArgs(text: string, buildArgs: Readonly<Record<string, string>> | undefined): string {
  const names = Object.keys(buildArgs ?? {});
  if (names.length === 0) return text;
  const dockerfile = DockerfileParser.parse(text);
  const escapeChar = dockerfile.getEscapeCharacter();
  const lineStarts = lineOffsets(text);
  const offset = (p: { line: number; character: number }): number => lineStarts[p.line]! + p.character;
  const edits: { start: number; end: number; text: string }[] = [];
  for (const instruction of dockerfile.getInstructions()) {
    if (instruction.getKeyword() !== 'ARG') continue;
    for (const word of instructionWords(instruction)) {
      const eq = word.value.indexOf('=');
      const name = eq === -1 ? word.value : word.value.slice(0, eq);
      if (!Object.prototype.hasOwnProperty.call(buildArgs, name)) continue;
      edits.push({ start: offset(word.start), end: offset(word.end), text: `${name}=${quoteArgValue(buildArgs![name]!, escapeChar)}` });
    }
  }
  let out = text;
  for (const edit of edits.sort((a, b) => b.start - a.start)) out = out.slice(0, edit.start) + edit.text + out.slice(edit.end);
  return out;
}

/** A quoted word whose expansion is exactly `value`: single quotes (nothing expands) unless it holds one or the escape character, then double quotes with escapes. */
export function quoteArgValue(value: string, escapeChar = '\\'): string {
  if (!value.includes("'") && !value.includes(escapeChar)) return `'${value}'`;
  let out = '"';
  for (const ch of value) out += ch === '"' || ch === '$' || ch === escapeChar ? `${escapeChar}${ch}` : ch;
  return `${out}"`;
}

function lineOffsets(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '\n') starts.push(i + 1);
    else if (text[i] === '\r' && text[i + 1] !== '\n') starts.push(i + 1);
  }
  return starts;
}
