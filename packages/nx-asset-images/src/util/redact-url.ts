/** Query keys whose values are never secret and help when reading an error (registry protocol parameters). */
const HARMLESS_QUERY_KEYS = new Set(['digest', 'mount', 'from', 'service', 'scope', 'n', 'last']);

/**
 * A URL safe to print in output, errors and logs: no userinfo, no fragment, and
 * every query value replaced by `REDACTED` except a few protocol parameters
 * (`digest`, `mount`, `from`, `service`, `scope`, `n`, `last`); keys stay, so
 * `X-Amz-Signature=REDACTED` still says what was there. Unparseable input is
 * reduced to what precedes `?`/`#`, with userinfo removed.
 */
export function redactUrl(url: string | URL): string {
  let parsed: URL;
  try {
    parsed = new URL(url.toString());
  } catch {
    return url
      .toString()
      .replace(/[?#].*$/s, '')
      .replace(/\/\/[^/@]*@/, '//');
  }
  parsed.username = '';
  parsed.password = '';
  parsed.hash = '';
  const entries = [...parsed.searchParams.entries()];
  if (entries.length > 0) {
    parsed.search = entries
      .map(([key, value]) => `${encodeURIComponent(key)}=${HARMLESS_QUERY_KEYS.has(key) ? encodeURIComponent(value) : 'REDACTED'}`)
      .join('&');
  }
  return parsed.toString();
}
