/**
 * The Hub's listing answers, as huggingface_hub reads them (hf_api.py), and
 * the `Link` header its `paginate` follows (utils/_pagination.py, GitHub's
 * format). Pure: JSON in, records out; anything unexpected is a
 * `HubListingError` naming the field.
 *
 *   GET /api/models/<repo>/revision/<rev>   {"id": ..., "sha": "<commit>", ...}             (ModelInfo.sha)
 *   GET /api/models/<repo>/tree/<rev>?recursive=true
 *     [{"type": "file", "oid": "<git blob>", "size": N, "path": "a/b.json"},
 *      {"type": "file", "oid": ..., "size": N, "path": "w.safetensors",
 *       "lfs": {"oid": "<sha256>", "size": N, "pointerSize": M}},
 *      {"type": "directory", "oid": ..., "size": 0, "path": "a"}]                      (RepoFile, BlobLfsInfo, RepoFolder)
 */
import { isSha256Hex } from '../sources/remote-source';

/** A file of a revision. */
export interface HubFile {
  /** Path in the repository, `/`-separated. */
  path: string;
  /** Bytes of the file as downloaded (for an LFS file: the LFS object's size). */
  size: number;
  /** The git blob id (of the pointer, for an LFS file). */
  gitOid: string;
  /** Present for LFS files: the sha256 and size of the content, known without downloading it. */
  lfs?: { sha256: string; size: number };
}

/** A listing answer without the shape huggingface_hub expects. */
export class HubListingError extends Error {
  override readonly name = 'HubListingError';
  constructor(
    /** `tree[3].lfs.oid`, `sha`, ... */
    readonly field: string,
    readonly expected: string,
  ) {
    super(`the Hub's answer has an unexpected shape: ${field} is not ${expected}`);
  }
}

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const isSize = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;

function field<T>(record: Json, name: string, where: string, expected: string, test: (value: unknown) => value is T): T {
  const value = record[name];
  if (!test(value)) throw new HubListingError(`${where}.${name}`, expected);
  return value;
}
const isText = (value: unknown): value is string => typeof value === 'string' && value !== '';
const isCommit = (value: unknown): value is string => typeof value === 'string' && /^[0-9a-f]{40}$/.test(value);

/** The commit a revision names: `sha` of the revision answer (40 hex digits). */
export function parseRevisionCommit(json: unknown): string {
  if (!isObject(json)) throw new HubListingError('(answer)', 'an object');
  return field(json, 'sha', '(answer)', 'a commit id (40 hex digits)', isCommit);
}

/** A path in the repository that may become a file's path in an image: relative, no `.`, `..` or empty segments. */
function isRepoPath(value: unknown): value is string {
  return (
    typeof value === 'string' && value !== '' && value.split('/').every((s) => s !== '' && s !== '.' && s !== '..') && !value.includes('\\')
  );
}

/** One page of a tree listing: its files (folders are left out). */
export function parseTreePage(json: unknown): HubFile[] {
  if (!Array.isArray(json)) throw new HubListingError('tree', 'a list');
  const files: HubFile[] = [];
  json.forEach((entry: unknown, i) => {
    const where = `tree[${i}]`;
    if (!isObject(entry)) throw new HubListingError(where, 'an object');
    const type = field(entry, 'type', where, '"file" or "directory"', (v): v is string => v === 'file' || v === 'directory');
    const path = field(entry, 'path', where, 'a relative path', isRepoPath);
    if (type === 'directory') return;
    const file: HubFile = {
      path,
      size: field(entry, 'size', where, 'a size', isSize),
      gitOid: field(entry, 'oid', where, 'a git object id', isText),
    };
    const lfs = entry['lfs'];
    if (lfs !== undefined && lfs !== null) {
      if (!isObject(lfs)) throw new HubListingError(`${where}.lfs`, 'an object');
      const sha256 = field(
        lfs,
        'oid',
        `${where}.lfs`,
        'a sha256 (64 hex digits)',
        (v): v is string => typeof v === 'string' && isSha256Hex(v),
      );
      file.lfs = { sha256, size: field(lfs, 'size', `${where}.lfs`, 'a size', isSize) };
    }
    files.push(file);
  });
  return files;
}

/**
 * The `rel="next"` target of a `Link` header (`<https://...>; rel="next", <...>; rel="last"`),
 * resolved against the page's URL; undefined when there is none.
 */
export function nextPageUrl(link: string | undefined, pageUrl: URL): URL | undefined {
  if (link === undefined) return undefined;
  for (const match of link.matchAll(/<([^>]*)>((?:\s*;\s*[^;,]+)*)/g)) {
    const params = match[2]!.split(';').map((p) => p.trim());
    const rel = params.find((p) => /^rel\s*=/i.test(p));
    const values =
      rel
        ?.replace(/^rel\s*=\s*/i, '')
        .replace(/^"|"$/g, '')
        .toLowerCase()
        .split(/\s+/) ?? [];
    if (values.includes('next')) return new URL(match[1]!, pageUrl);
  }
  return undefined;
}
