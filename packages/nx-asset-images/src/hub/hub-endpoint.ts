/**
 * Where the Hub is and which token it gets, from the environment as
 * huggingface_hub reads it (`constants.py`: `HF_ENDPOINT`, default
 * `https://huggingface.co`, trailing `/` removed), and the URLs of its
 * published HTTP API. Pure. The token's value never leaves this module but
 * in the `Authorization` header the HTTP core sends to the endpoint's origin.
 */
import { HF_TOKEN_ENV, tokenEnvVarName } from '../sources/source-auth';

export const HF_ENDPOINT_ENV = 'HF_ENDPOINT';
export const DEFAULT_HUB_ENDPOINT = 'https://huggingface.co';

/** `HF_ENDPOINT` that is not an http(s) URL. */
export class InvalidHubEndpointError extends Error {
  override readonly name = 'InvalidHubEndpointError';
  constructor(readonly reason: string) {
    super(`${HF_ENDPOINT_ENV} ${reason}; set it to the Hub's base URL (default ${DEFAULT_HUB_ENDPOINT})`);
  }
}

/** The endpoint's base URL, without a trailing `/` (a path prefix, as some mirrors have, is kept). */
export function hubEndpoint(env: NodeJS.ProcessEnv): string {
  const value = (env[HF_ENDPOINT_ENV]?.trim() || DEFAULT_HUB_ENDPOINT).replace(/\/+$/, '');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidHubEndpointError('is not a URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InvalidHubEndpointError('is not an http(s) URL');
  if (url.username !== '' || url.password !== '') throw new InvalidHubEndpointError('must not carry credentials (use HF_TOKEN)');
  if (url.search !== '' || url.hash !== '') throw new InvalidHubEndpointError('must not have a query or a fragment');
  return value;
}

/** The variables a Hub token is read from, in order: `HF_TOKEN`, then `NX_ASSET_IMAGES_TOKEN_<HOST>` of the endpoint. */
export function hubTokenVariables(endpoint: string): string[] {
  return [HF_TOKEN_ENV, tokenEnvVarName(new URL(endpoint).hostname)];
}

/** The token for `endpoint` (empty values count as unset), or undefined. */
export function hubToken(endpoint: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const name of hubTokenVariables(endpoint)) {
    const value = env[name]?.trim();
    if (value) return value;
  }
  return undefined;
}

/** A path segment as huggingface_hub quotes a revision (`quote(revision, safe="")`). */
const segment = (value: string): string => encodeURIComponent(value);

/** `model_info(repo_id, revision=...)`: `GET /api/models/<repo>/revision/<rev>`; its `sha` is the commit. */
export function revisionInfoUrl(endpoint: string, repoId: string, revision: string): URL {
  return new URL(`${endpoint}/api/models/${repoId}/revision/${segment(revision)}`);
}

/** `list_repo_tree(recursive=True)`: `GET /api/models/<repo>/tree/<rev>?recursive=true&expand=false`, paginated by `Link`. */
export function treeUrl(endpoint: string, repoId: string, revision: string): URL {
  return new URL(`${endpoint}/api/models/${repoId}/tree/${segment(revision)}?recursive=true&expand=false`);
}

/** `hf_hub_url`: `<endpoint>/<repo>/resolve/<commit>/<path>`, each path segment quoted, `/` kept. */
export function resolveUrl(endpoint: string, repoId: string, commit: string, path: string): string {
  return `${endpoint}/${repoId}/resolve/${segment(commit)}/${path.split('/').map(segment).join('/')}`;
}
