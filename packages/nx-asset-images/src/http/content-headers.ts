/** Pure parsers of the response headers a resumable download reads. */

export type ContentRange = { kind: 'range'; start: number; end: number; total?: number } | { kind: 'unsatisfied'; total: number };

/** Parses `bytes 10-99/100`, `bytes 10-99/*` and `bytes *\/100`; undefined for anything else. */
export function parseContentRange(header: string | undefined): ContentRange | undefined {
  if (header === undefined) return undefined;
  const text = header.trim();
  const unsatisfied = /^bytes \*\/(\d+)$/i.exec(text);
  if (unsatisfied) return { kind: 'unsatisfied', total: Number(unsatisfied[1]) };
  const match = /^bytes (\d+)-(\d+)\/(\d+|\*)$/i.exec(text);
  if (!match) return undefined;
  const start = Number(match[1]);
  const end = Number(match[2]);
  const total = match[3] === '*' ? undefined : Number(match[3]);
  if (end < start || (total !== undefined && end >= total)) return undefined;
  return total === undefined ? { kind: 'range', start, end } : { kind: 'range', start, end, total };
}

/** `Content-Length` as a number, undefined when absent or malformed. */
export function parseContentLength(header: string | undefined): number | undefined {
  if (header === undefined || !/^\d+$/.test(header.trim())) return undefined;
  return Number(header.trim());
}
