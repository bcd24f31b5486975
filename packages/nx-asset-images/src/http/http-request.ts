/**
 * The request core both HTTP clients use (registry session, remote-source
 * downloader): one request on keep-alive agents, following redirects by hand,
 * deciding on every hop whether the Authorization header goes along.
 *
 * The credential rule is `util/credential-origin.ts`'s `maySendCredentials`:
 * the header goes only to the origin that owns the credentials (or one it
 * named itself), never after https -> http, and never to a host a redirect
 * led to. It is decided per hop, so a redirect back to the owner's origin
 * gets the header again. No retries here: see `retry-policy.ts`.
 */
import { maySendCredentials } from '../util/credential-origin';
import { agentFor, type HttpAgents } from './agents';
import { HttpRedirectError } from './http-errors';
import { discardResponseBody, headerValue } from './response-body';
import { sendHttpRequest, type HttpRequestOptions, type HttpResponse } from './send-request';

export const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

export interface RequestCredentials {
  /** The origin the credentials belong to: the registry's base URL, a source's URL. */
  owner: URL;
  /** Origins the owner itself announced (a registry's token realm). */
  alsoOwned?: readonly URL[];
  /** The Authorization value for a hop that may receive one (asked on every such hop); undefined: none. */
  authorization: (url: URL) => string | undefined;
}

export interface RedirectOptions {
  /** Redirects followed at most; one more is an `HttpRedirectError`. */
  max: number;
  /** Redirect statuses that are answers for this request (not followed). */
  except?: readonly number[];
}

export interface RequestOptions extends Omit<HttpRequestOptions, 'agent'> {
  agents?: HttpAgents;
  credentials?: RequestCredentials;
  /** Follow 301/302/303/307/308 (only for requests without a body). Absent: a redirect is an answer like any other. */
  redirects?: RedirectOptions;
}

export interface RequestResponse extends HttpResponse {
  /** The URL that answered: the last hop. */
  url: URL;
  /** `maySendCredentials` for `url`: whether the credentials' owner would let that origin have them. */
  credentialsAllowed: boolean;
  /** True when an Authorization header was sent to `url`. */
  sentCredentials: boolean;
  redirects: number;
}

/** Sends the request, following redirects when asked; resolves with the last hop's response (the caller consumes or discards its body). */
export async function httpRequest(options: RequestOptions): Promise<RequestResponse> {
  const { agents, credentials, redirects: follow, ...common } = options;
  if (follow && common.body !== undefined) throw new Error('redirects are followed only for requests without a body');
  let url = common.url;
  for (let redirects = 0; ;) {
    const credentialsAllowed = credentials ? maySendCredentials(url, credentials.owner, credentials.alsoOwned) : false;
    const authorization = credentials && credentialsAllowed ? credentials.authorization(url) : undefined;
    const headers: Record<string, string> = { ...common.headers };
    if (credentials) delete headers.authorization; // only the per-hop decision puts one there
    if (authorization !== undefined) headers.authorization = authorization;
    const response = await sendHttpRequest({ ...common, url, headers, ...(agents ? { agent: agentFor(agents, url) } : {}) });
    const answer = { ...response, url, credentialsAllowed, sentCredentials: authorization !== undefined, redirects };
    if (!follow || !REDIRECT_STATUSES.has(response.status) || follow.except?.includes(response.status)) return answer;

    const location = headerValue(response, 'location');
    await discardResponseBody(response);
    const fail = (problem: HttpRedirectError['problem'], reason: string, cause?: unknown) =>
      new HttpRedirectError(problem, common.method, url, response.status, reason, cause !== undefined ? { cause } : undefined);
    if (location === undefined) throw fail('no-location', `HTTP ${response.status} redirect without Location`);
    if (++redirects > follow.max) throw fail('too-many', `more than ${follow.max} redirects`);
    let next: URL;
    try {
      next = new URL(location, url);
    } catch (error) {
      throw fail('invalid-location', 'redirect to an invalid URL', error);
    }
    if (next.protocol !== 'http:' && next.protocol !== 'https:') {
      throw fail('unsupported-protocol', `redirect to unsupported protocol ${next.protocol}`);
    }
    url = next; // the next hop decides again whether the Authorization header goes along
  }
}
