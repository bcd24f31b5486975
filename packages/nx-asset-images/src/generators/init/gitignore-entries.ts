/**
 * Appending entries to a .gitignore without duplicating what is there. Pure.
 */

/** `dist`, `/dist`, `dist/`, `/dist/` ignore the same root folder for our purpose: one key. */
function entryKey(line: string): string {
  return line.trim().replace(/^\//, '').replace(/\/$/, '');
}

/**
 * Returns `content` with the `entries` that it lacks appended (one a line),
 * keeping its line endings; `content` unchanged when nothing is missing.
 * `null` content (no file) gives a file holding just the entries.
 */
export function addGitignoreEntries(content: string | null, entries: readonly string[], heading?: string): string {
  const existing = content ?? '';
  const eol = existing.includes('\r\n') ? '\r\n' : '\n';
  const present = new Set(
    existing
      .split(/\r?\n/)
      .map((line) => line.trim())
      .filter((line) => line.length > 0 && !line.startsWith('#'))
      .map(entryKey),
  );
  const missing: string[] = [];
  for (const entry of entries) {
    const key = entryKey(entry);
    if (!present.has(key)) {
      present.add(key);
      missing.push(entry);
    }
  }
  if (missing.length === 0) return existing;
  const lines = heading !== undefined ? [heading, ...missing] : missing;
  let prefix = existing;
  if (prefix.length > 0 && !prefix.endsWith('\n')) prefix += eol;
  if (prefix.trim().length > 0 && heading !== undefined && !/\r?\n\r?\n$/.test(prefix)) prefix += eol;
  return prefix + lines.join(eol) + eol;
}
