/**
 * The one rule for where credentials may go, shared by the registry client
 * (transports/registry) and the remote-source downloader (sources/download*):
 *
 * Credentials belong to an origin (scheme, host, port): the registry's base
 * URL, the URL of a remote source. An `Authorization` header made from them is
 * sent only to a URL of that origin, or of an origin the owner itself named
 * (the token realm a registry announces on its own `/v2/`). Never to anything
 * else, in particular not to a host a redirect points at (blob storage, a
 * CDN), and never over plain HTTP when the owner is HTTPS (a downgrade leaks
 * the header to anyone on the path, even for the same host).
 *
 * Pure: no I/O. Callers decide on every hop, not once per request.
 */

/** `http:` and `https:` are the only schemes credentials ever travel over. */
function isHttpScheme(url: URL): boolean {
  return url.protocol === 'http:' || url.protocol === 'https:';
}

/** True when going from `from` to `to` loses TLS (https -> http). */
export function isDowngrade(from: URL, to: URL): boolean {
  return from.protocol === 'https:' && to.protocol !== 'https:';
}

/** True when `a` and `b` have the same http(s) origin: scheme, host and port (default ports normalised). */
export function sameOrigin(a: URL, b: URL): boolean {
  // Opaque origins (file:, data:, ...) are all "null": never equal for this purpose.
  return isHttpScheme(a) && isHttpScheme(b) && a.origin === b.origin;
}

/**
 * May an `Authorization` header made from credentials owned by `owner` be sent
 * to `target`? Only when `target` has the origin of `owner` or of one of
 * `alsoOwned` (origins `owner` itself announced, e.g. its token realm), and
 * never when that would go from https (`owner`) to http.
 */
export function maySendCredentials(target: URL, owner: URL, alsoOwned: readonly URL[] = []): boolean {
  if (!isHttpScheme(target) || !isHttpScheme(owner)) return false;
  if (isDowngrade(owner, target)) return false;
  return sameOrigin(target, owner) || alsoOwned.some((origin) => sameOrigin(target, origin));
}

/**
 * Why `maySendCredentials` said no, for error messages (no secrets: origins only).
 * Undefined when it said yes.
 */
export function credentialRefusal(
  target: URL,
  owner: URL,
  alsoOwned: readonly URL[] = [],
): 'not-http' | 'downgrade' | 'other-origin' | undefined {
  if (maySendCredentials(target, owner, alsoOwned)) return undefined;
  if (!isHttpScheme(target) || !isHttpScheme(owner)) return 'not-http';
  if (isDowngrade(owner, target)) return 'downgrade';
  return 'other-origin';
}
