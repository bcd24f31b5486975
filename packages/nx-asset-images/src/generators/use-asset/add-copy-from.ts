/**
 * Adding an asset's `COPY --from=<image>:<tag> <source> <destination>` line
 * to a Dockerfile. Pure: text in, text out.
 *
 * The line goes into the final stage (after the last FROM), after the
 * COPY --from lines of other assets already there, else right after the FROM:
 * assets change less often than app code, so their layers come early. The
 * file's line endings and the anchor's indentation are kept.
 */
import { DockerfileParser, type Instruction } from 'dockerfile-ast';
import { findImageReferences } from '../../dockerfile/find-image-references';
import { parseDockerfile } from '../../dockerfile/parse-dockerfile';
import { parseImageReference, repositoryKey } from '../../oci/image-reference';

export interface AddCopyFromRequest {
  text: string;
  /** Used in messages. */
  fileName: string;
  /** The asset's image repository as written in its asset.json. */
  image: string;
  tag: string;
  /** Directory inside the asset image to copy (the asset's `destination`, `/` by default). */
  source: string;
  /** Directory inside the app image. */
  destination: string;
  /** `repositoryKey`s of every asset image in the workspace: their COPY --from lines are grouped. */
  assetRepositoryKeys: ReadonlySet<string>;
}

export type AddCopyFromResult =
  | { status: 'added'; text: string; instruction: string; /** 1-based */ line: number }
  /** The Dockerfile already copies from this asset image; `existing` is the reference as written. */
  | { status: 'present'; line: number; existing: string; sameTag: boolean };

export class DockerfileWithoutFromError extends Error {
  override readonly name = 'DockerfileWithoutFromError';
  constructor(readonly fileName: string) {
    super(`${fileName} has no FROM instruction; add one, then run the generator again.`);
  }
}

export function copyFromInstruction(image: string, tag: string, source: string, destination: string): string {
  return `COPY --from=${image}:${tag} ${source} ${destination}`;
}

/** Offset of the start of 0-based line `line` (text.length when past the end). */
function lineStartOffset(text: string, line: number): number {
  let offset = 0;
  for (let i = 0; i < line; i++) {
    const next = text.indexOf('\n', offset);
    if (next === -1) return text.length;
    offset = next + 1;
  }
  return offset;
}

function leadingWhitespace(text: string, line: number): string {
  const start = lineStartOffset(text, line);
  return /^[ \t]*/.exec(text.slice(start))![0];
}

export function addCopyFrom(request: AddCopyFromRequest): AddCopyFromResult {
  const { text, fileName } = request;
  const assetKey = repositoryKey(parseImageReference(request.image));
  const parsed = parseDockerfile(text, fileName);
  const copyFroms = findImageReferences(parsed).filter((r) => r.kind === 'copy-from');

  const existing = copyFroms.find((r) => repositoryKey(r.reference) === assetKey);
  if (existing !== undefined) {
    return {
      status: 'present',
      line: existing.line,
      existing: existing.raw,
      sameTag: existing.reference.digest === undefined && (existing.reference.tag ?? 'latest') === request.tag,
    };
  }

  const instructions: Instruction[] = DockerfileParser.parse(text).getInstructions();
  const lastFromIndex = instructions.map((i) => i.getKeyword()).lastIndexOf('FROM');
  if (lastFromIndex === -1) throw new DockerfileWithoutFromError(fileName);
  const finalStage = parsed.stages.length - 1;

  const assetCopyLines = new Set(
    copyFroms.filter((r) => r.stage === finalStage && request.assetRepositoryKeys.has(repositoryKey(r.reference))).map((r) => r.line),
  );
  let anchor = instructions[lastFromIndex]!;
  for (const instruction of instructions.slice(lastFromIndex + 1)) {
    // The parser's COPY --from lines (any flags, any order), not dockerfile-ast's getFromFlag (only a lone --from).
    if (instruction.getKeyword() === 'COPY' && assetCopyLines.has(instruction.getRange().start.line + 1)) anchor = instruction;
  }

  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const instruction = copyFromInstruction(request.image, request.tag, request.source, request.destination);
  const anchorStart = anchor.getRange().start.line;
  const insertLine = anchor.getRange().end.line + 1;
  const offset = lineStartOffset(text, insertLine);
  const needsBreak = offset === text.length && text.length > 0 && !text.endsWith('\n');
  const inserted = `${needsBreak ? eol : ''}${leadingWhitespace(text, anchorStart)}${instruction}${eol}`;
  return {
    status: 'added',
    text: text.slice(0, offset) + inserted + text.slice(offset),
    instruction,
    line: insertLine + 1,
  };
}

/** A Dockerfile for an app that has none: the base image is a build argument, python by default. */
export function newDockerfile(copyFrom: string): string {
  return [
    '# The runtime of the app: change the default, or pass --build-arg BASE_IMAGE',
    'ARG BASE_IMAGE=python:3.12-slim',
    'FROM ${BASE_IMAGE}',
    copyFrom,
    '',
  ].join('\n');
}
