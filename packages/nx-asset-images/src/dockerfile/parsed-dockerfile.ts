/**
 * The facts read from one Dockerfile: an immutable record, produced once by
 * `parseDockerfile` and queried by pure functions. Lines are 1-based.
 */
import type { ImageReference } from '../oci/image-reference';

/** Where an image reference appears. */
export type ImageReferenceKind = 'from' | 'copy-from' | 'mount-from';

/**
 * A reference to something outside the Dockerfile: an image, or a word that
 * could not be expanded (then it may be an image or a stage; `resolved` and
 * `reference` are absent and `unresolved` names the variables).
 */
export interface DockerfileImageReference {
  /** The text as written (`asset/bert:${VERSION}`). */
  readonly raw: string;
  /** After ARG/ENV substitution; absent when a variable had no known value. */
  readonly resolved?: string;
  /** The parsed, normalised reference; absent when unresolved or not a valid reference. */
  readonly reference?: ImageReference;
  /** Variables without a known value. */
  readonly unresolved?: readonly string[];
  readonly kind: ImageReferenceKind;
  readonly line: number;
  /** Index of the stage the instruction belongs to. */
  readonly stage: number;
}

export type StageBase =
  | { readonly kind: 'image'; readonly raw: string; readonly resolved?: string; readonly reference?: ImageReference }
  | { readonly kind: 'stage'; readonly raw: string; readonly stageIndex: number }
  | { readonly kind: 'scratch'; readonly raw: string }
  /** `FROM` with no image. */
  | { readonly kind: 'missing' };

export interface DockerfileStage {
  readonly index: number;
  /** Lowercased, as Docker compares stage names case-insensitively. */
  readonly name?: string;
  readonly line: number;
  /** The `--platform` value as written. */
  readonly platform?: string;
  readonly base: StageBase;
}

export interface DockerfileArg {
  readonly name: string;
  /** Default after substitution; `null` when there is none or it could not be resolved. */
  readonly value: string | null;
  readonly line: number;
}

export type DockerfileWarningCode =
  | 'no-from'
  | 'instruction-before-from'
  | 'missing-image'
  | 'malformed-from'
  | 'invalid-stage-name'
  | 'duplicate-stage-name'
  | 'unresolved-variable'
  | 'invalid-image-reference'
  | 'unknown-stage'
  | 'unterminated-heredoc'
  | 'malformed-mount';

export interface DockerfileWarning {
  readonly code: DockerfileWarningCode;
  readonly line: number;
  readonly message: string;
}

export interface ParsedDockerfile {
  readonly fileName: string;
  readonly escapeChar: string;
  /** Parser directives (`# syntax=`, `# escape=`), names lowercased. */
  readonly directives: Readonly<Record<string, string>>;
  /** ARGs declared before the first FROM. */
  readonly globalArgs: readonly DockerfileArg[];
  readonly stages: readonly DockerfileStage[];
  /** Every reference that is not a stage or `scratch`, in file order. */
  readonly imageReferences: readonly DockerfileImageReference[];
  readonly warnings: readonly DockerfileWarning[];
}
