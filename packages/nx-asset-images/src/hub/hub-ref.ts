/**
 * `hf://<org>/<repo>[@<revision>]`: a model repository on a Hugging Face Hub
 * and the revision (branch, tag or commit) to import. Pure.
 */

export const HUB_REF_SCHEME = 'hf://';
/** The revision huggingface_hub takes when none is given (`constants.DEFAULT_REVISION`). */
export const DEFAULT_HUB_REVISION = 'main';

export interface HubRef {
  /** `org/repo` */
  repoId: string;
  /** As given, or `main`. */
  revision: string;
  /** False when the revision was left out (then it is `main`). */
  revisionGiven: boolean;
}

/** A `--from` value that is not `hf://<org>/<repo>[@<revision>]`. */
export class InvalidHubRefError extends Error {
  override readonly name = 'InvalidHubRefError';
  constructor(
    readonly value: string,
    readonly reason: string,
  ) {
    super(`${JSON.stringify(value)} is not hf://<org>/<repo>[@<revision>]: ${reason}`);
  }
}

/** huggingface_hub's repo id rule (`validate_repo_id`), with the namespace required: `org/name`, word characters, `.` and `-`. */
const PART = /^[\w.-]{1,96}$/;

export function parseHubRef(value: string): HubRef {
  const text = value.trim();
  if (!text.startsWith(HUB_REF_SCHEME)) throw new InvalidHubRefError(value, `expected it to start with ${HUB_REF_SCHEME}`);
  const rest = text.slice(HUB_REF_SCHEME.length);
  const at = rest.indexOf('@');
  const repoId = at === -1 ? rest : rest.slice(0, at);
  const revision = at === -1 ? undefined : rest.slice(at + 1);
  const parts = repoId.split('/');
  if (parts.length !== 2 || !parts.every((part) => PART.test(part) && !/^[.-]|[.-]$|\.\.|--/.test(part))) {
    throw new InvalidHubRefError(value, `"${repoId}" is not <org>/<repo> (letters, digits, "_", "." and "-")`);
  }
  if (revision !== undefined && (revision === '' || /[\s\0]/.test(revision))) {
    throw new InvalidHubRefError(value, 'the revision after "@" is empty or holds white space');
  }
  return { repoId, revision: revision ?? DEFAULT_HUB_REVISION, revisionGiven: revision !== undefined };
}

/** `hf://org/repo@rev`, for messages. */
export function formatHubRef(ref: Pick<HubRef, 'repoId' | 'revision'>): string {
  return `${HUB_REF_SCHEME}${ref.repoId}@${ref.revision}`;
}
