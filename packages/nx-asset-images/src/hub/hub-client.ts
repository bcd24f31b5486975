/**
 * The Hub's HTTP API through the package's one HTTP core: a revision's commit
 * and its files (tree listing, every `Link` page), and the bytes of a small
 * file. Every request goes through the retry policy; the token goes only to
 * the endpoint's origin (the credential-origin rule of `httpRequest`), never
 * to a CDN a `resolve` redirects to.
 */
import { createAgents, destroyAgents, type HttpAgents } from '../http/agents';
import { httpRequest, type RequestCredentials } from '../http/http-request';
import { discardResponseBody, headerValue, readResponseBody } from '../http/response-body';
import {
  isRetryableNetworkError,
  isRetryableStatus,
  parseRetryAfter,
  withRetry,
  type RetryOptions,
  type RetryOverrides,
} from '../http/retry-policy';
import { revisionInfoUrl, treeUrl } from './hub-endpoint';
import { classifyHubAnswer, HubError, type HubErrorContext } from './hub-errors';
import { HubListingError, nextPageUrl, parseRevisionCommit, parseTreePage, type HubFile } from './hub-listing';

/** Short JSON requests: a few quick attempts, bounded in time. */
export const HUB_RETRY: Readonly<Required<Omit<RetryOptions, 'maxRetryAfterMs'>>> = {
  attempts: 4,
  baseDelayMs: 250,
  maxDelayMs: 8_000,
  maxTotalMs: 60_000,
};

const USER_AGENT = 'nx-asset-images';
const IDLE_TIMEOUT_MS = 60_000;
/** A listing page or a small (non-LFS) file: the Hub keeps files above 10 MB in LFS. */
const MAX_BODY_BYTES = 64 * 1024 * 1024;
const MAX_PAGES = 10_000;

export interface HubClientOptions extends Omit<HubErrorContext, 'hasToken'> {
  /** Never printed; goes to the endpoint's origin only. */
  token?: string | undefined;
  retry?: RetryOverrides;
  signal?: AbortSignal;
}

export interface HubClient {
  /** The commit `ref.revision` names now, and the files of that commit. */
  listRevision(): Promise<{ commit: string; files: HubFile[]; pages: number }>;
  /** The bytes at `url` (a `resolve` URL), following redirects. */
  download(url: string): Promise<Buffer>;
  close(): void;
}

/** An answer other than 200 (internal; turned into a `HubError`). */
class HubStatusError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: string | undefined,
    readonly retryAfterMs: number | undefined,
  ) {
    super(`HTTP ${status}${errorCode ? ` ${errorCode}` : ''}`);
  }
}

export function createHubClient(options: HubClientOptions): HubClient {
  const agents: HttpAgents = createAgents(4);
  const token = options.token;
  // Spelled out: the token must not ride along in an error's context.
  const context: HubErrorContext = {
    ref: options.ref,
    endpoint: options.endpoint,
    tokenVariables: options.tokenVariables,
    hasToken: token !== undefined,
  };
  const credentials: RequestCredentials = {
    owner: new URL(options.endpoint),
    authorization: () => (token === undefined ? undefined : `Bearer ${token}`),
  };

  const get = (url: URL) =>
    withRetry(
      async () => {
        const response = await httpRequest({
          method: 'GET',
          url,
          headers: { 'user-agent': USER_AGENT },
          agents,
          credentials,
          redirects: { max: 10 },
          timeoutMs: IDLE_TIMEOUT_MS,
          ...(options.signal ? { signal: options.signal } : {}),
        });
        if (response.status !== 200) {
          const error = new HubStatusError(
            response.status,
            headerValue(response, 'x-error-code'),
            parseRetryAfter(headerValue(response, 'retry-after')),
          );
          await discardResponseBody(response);
          throw error;
        }
        return { body: await readResponseBody(response, MAX_BODY_BYTES), link: headerValue(response, 'link'), url: response.url };
      },
      {
        ...HUB_RETRY,
        ...options.retry,
        isRetryable: (error) => (error instanceof HubStatusError ? isRetryableStatus(error.status) : isRetryableNetworkError(error)),
        ...(options.signal ? { signal: options.signal } : {}),
      },
    );

  const failed = (error: unknown): Error => {
    if (error instanceof HubError || (error as { name?: string })?.name === 'AbortError') return error as Error;
    if (error instanceof HubStatusError) {
      return new HubError(classifyHubAnswer(error, token !== undefined), context, error.status, error.errorCode, { cause: error });
    }
    if (error instanceof HubListingError) return new HubError('unexpected', context, 200, error.message, { cause: error });
    return new HubError('unavailable', context, undefined, error instanceof Error ? error.message : String(error), { cause: error });
  };
  const json = (body: Buffer): unknown => {
    try {
      return JSON.parse(body.toString('utf8'));
    } catch {
      throw new HubListingError('(answer)', 'JSON');
    }
  };

  return {
    async listRevision() {
      try {
        const { ref, endpoint } = options;
        const commit = parseRevisionCommit(json((await get(revisionInfoUrl(endpoint, ref.repoId, ref.revision))).body));
        const files: HubFile[] = [];
        let next: URL | undefined = treeUrl(endpoint, ref.repoId, commit);
        let pages = 0;
        while (next !== undefined) {
          if (++pages > MAX_PAGES) throw new HubListingError('Link', `fewer than ${MAX_PAGES} pages`);
          const page = await get(next);
          files.push(...parseTreePage(json(page.body)));
          next = nextPageUrl(page.link, page.url);
        }
        return { commit, files, pages };
      } catch (error) {
        throw failed(error);
      }
    },
    async download(url) {
      try {
        return (await get(new URL(url))).body;
      } catch (error) {
        throw failed(error);
      }
    },
    close() {
      destroyAgents(agents);
    },
  };
}
