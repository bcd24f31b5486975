/**
 * Why an import failed, in the terms of huggingface_hub's `hf_raise_for_status`
 * (utils/_http.py): the `X-Error-Code` header says `RepoNotFound`,
 * `RevisionNotFound` or `GatedRepo`; a 401 without it is a repository that
 * does not exist or is private (the Hub does not tell them apart without a
 * token). Each message names the repository and revision and says what to do;
 * never a token, only the names of the variables that hold one.
 */
import { formatHubRef, type HubRef } from './hub-ref';

export type HubFailure = 'repo-not-found' | 'revision-not-found' | 'token-required' | 'no-access' | 'unavailable' | 'unexpected';

export interface HubAnswer {
  status: number;
  /** `X-Error-Code` */
  errorCode?: string | undefined;
  /** `X-Error-Message` */
  errorMessage?: string | undefined;
}

/** What an answer other than 200 means; `hasToken`: whether the request carried one. */
export function classifyHubAnswer(answer: HubAnswer, hasToken: boolean): HubFailure {
  const { status, errorCode } = answer;
  if (status === 429 || (status >= 500 && status <= 599)) return 'unavailable';
  if (errorCode === 'RevisionNotFound') return 'revision-not-found';
  const denied = errorCode === 'GatedRepo' || status === 401 || status === 403;
  if (denied) return hasToken ? 'no-access' : 'token-required';
  if (errorCode === 'RepoNotFound' || status === 404) return 'repo-not-found';
  return 'unexpected';
}

export interface HubErrorContext {
  ref: HubRef;
  endpoint: string;
  /** Names of the variables a token is read from, in order (`HF_TOKEN` first). */
  tokenVariables: readonly string[];
  hasToken: boolean;
}

/** An import that failed; nothing was written. */
export class HubError extends Error {
  override readonly name = 'HubError';
  readonly repoId: string;
  readonly revision: string;
  constructor(
    readonly failure: HubFailure,
    context: HubErrorContext,
    /** The HTTP status of the answer, when there was one. */
    readonly status: number | undefined,
    detail?: string,
    options?: { cause?: unknown },
  ) {
    super(hubErrorMessage(failure, context, status, detail), options);
    this.repoId = context.ref.repoId;
    this.revision = context.ref.revision;
  }
}

function hubErrorMessage(failure: HubFailure, context: HubErrorContext, status: number | undefined, detail?: string): string {
  const { ref, endpoint, tokenVariables } = context;
  const page = `${endpoint}/${ref.repoId}`;
  const answered = status === undefined ? '' : ` (HTTP ${status})`;
  const tokens = tokenVariables.join(' or ');
  const what = (() => {
    switch (failure) {
      case 'repo-not-found':
        return context.hasToken
          ? `no repository ${ref.repoId} on ${endpoint}${answered}. Check the name on ${page}.`
          : `no repository ${ref.repoId} on ${endpoint}${answered}. Check the name; if it is private, set ${tokens} to a token that may read it.`;
      case 'revision-not-found':
        return `${ref.repoId} has no revision "${ref.revision}"${answered}. Give an existing branch, tag or commit after "@" (see ${page}/tree/main).`;
      case 'token-required':
        return `the repository is gated or private and no token is set${answered}. Set ${tokens} to a token that may read it (accept the repository's conditions on ${page} first if it is gated).`;
      case 'no-access':
        return `the token (from ${tokens}) may not read this gated or private repository${answered}. Request access on ${page}, or use a token that has it.`;
      case 'unavailable':
        return `the Hub did not answer${answered} after the retries${detail ? `: ${detail}` : ''}. Try again later${status === 429 ? ' (rate limited: a token raises the limit)' : ''}.`;
      case 'unexpected':
        return `unexpected answer${answered}${detail ? `: ${detail}` : ''}. Check ${'HF_ENDPOINT'} (${endpoint}).`;
    }
  })();
  return `${formatHubRef(ref)}: ${what} Nothing was written.`;
}
