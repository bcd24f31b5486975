/**
 * URLs as they may appear in errors and logs: no userinfo, no secret-bearing
 * query values (tokens, signatures, opaque upload state).
 */
const SECRET_QUERY_KEY = /token|password|passwd|secret|signature|sig$|credential|auth|^_state$|^x-amz-|^x-goog-/i;

export function redactUrl(input: string | URL): string {
  let url: URL;
  try {
    url = new URL(String(input));
  } catch {
    return '<unparseable url>';
  }
  url.username = '';
  url.password = '';
  for (const key of [...url.searchParams.keys()]) {
    if (SECRET_QUERY_KEY.test(key)) url.searchParams.set(key, 'REDACTED');
  }
  return url.toString();
}
