/**
 * Credentials for private remote sources, from the environment only: asset.json
 * never holds secrets.
 *
 * - `NX_ASSET_IMAGES_TOKEN_<HOST>`: a bearer token for one hostname, HOST being
 *   the hostname upper-cased with every non-alphanumeric character replaced by
 *   `_` (`huggingface.co` -> `NX_ASSET_IMAGES_TOKEN_HUGGINGFACE_CO`,
 *   `127.0.0.1` -> `NX_ASSET_IMAGES_TOKEN_127_0_0_1`). The port is not part of
 *   the name: a token applies to every port of that hostname.
 * - `HF_TOKEN`: the Hugging Face convention, for `huggingface.co` and
 *   `*.huggingface.co` (the per-host variable wins when both are set).
 *
 * Where a token goes (enforced by the downloader): only to the origin (scheme,
 * hostname and port) of the source URL. After a redirect to any other origin
 * (other hostname, other port, or https -> http) no Authorization header is
 * sent, whatever that origin is: signed CDN URLs do not need it and must not
 * see it. Tokens are never printed or put into errors; only the names of the
 * variables are. The rule is the package's one rule for credentials
 * (`util/credential-origin.ts`), shared with the registry client.
 */

/** Returns the `Authorization` header value for a request to `url`, or undefined for none. */
export type AuthResolver = (url: URL) => string | undefined;

export const TOKEN_ENV_PREFIX = 'NX_ASSET_IMAGES_TOKEN_';
export const HF_TOKEN_ENV = 'HF_TOKEN';

/** `huggingface.co` -> `NX_ASSET_IMAGES_TOKEN_HUGGINGFACE_CO` */
export function tokenEnvVarName(hostname: string): string {
  return TOKEN_ENV_PREFIX + hostname.toUpperCase().replace(/[^A-Z0-9]/g, '_');
}

function isHuggingFaceHost(hostname: string): boolean {
  const host = hostname.toLowerCase();
  return host === 'huggingface.co' || host.endsWith('.huggingface.co');
}

/** The variables consulted for `hostname`, in order of precedence (for error hints: names only, never values). */
export function tokenEnvVarsFor(hostname: string): string[] {
  const names = [tokenEnvVarName(hostname)];
  if (isHuggingFaceHost(hostname)) names.push(HF_TOKEN_ENV);
  return names;
}

/** Bearer token for `hostname` from `env`, or undefined (empty values count as unset). */
export function tokenForHost(hostname: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const name of tokenEnvVarsFor(hostname)) {
    const value = env[name]?.trim();
    if (value) return value;
  }
  return undefined;
}

/** The default resolver: `Bearer <token>` from the environment variables above. */
export function authFromEnv(env: NodeJS.ProcessEnv = process.env): AuthResolver {
  return (url) => {
    const token = tokenForHost(url.hostname, env);
    return token === undefined ? undefined : `Bearer ${token}`;
  };
}

/** No credentials at all. */
export const noAuth: AuthResolver = () => undefined;
