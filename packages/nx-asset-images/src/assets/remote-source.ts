/**
 * Remote sources: files an asset takes from a model hub, a bucket or an HTTP
 * server, pinned by sha256 in `asset.json`:
 *
 *   "sources": [{ "url": "https://…/model.safetensors", "sha256": "<64 hex>", "path": "model.safetensors", "size": 123 }]
 *
 * Pure: parsing, validation and URL redaction. No fs, no network.
 */
import { posix } from 'node:path';
import { redactUrl } from '../util/redact-url';

export interface RemoteSource {
  /** http(s) URL, without credentials (tokens come from the environment, see source-auth.ts). */
  url: string;
  /** 64 lowercase hex characters: the sha256 of the file's bytes. */
  sha256: string;
  /** Where the file goes, relative to the asset's destination, `/`-separated. */
  path: string;
  /** Expected size in bytes, when known: lets a wrong file fail before it is fully downloaded. */
  size?: number;
}

/** A bad `sources` entry in an asset manifest; `field` is e.g. `sources[2].sha256`. */
export class RemoteSourceError extends Error {
  override readonly name = 'RemoteSourceError';
  constructor(
    readonly field: string,
    readonly problem: string,
  ) {
    super(`${field}: ${problem}`);
  }
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** True for exactly 64 lowercase hex characters. */
export function isSha256Hex(value: string): boolean {
  return SHA256_HEX.test(value);
}

/** Accepts `<hex>` or `sha256:<hex>`, any case; returns lowercase hex or undefined when it is not a sha256. */
export function normalizeSha256(value: string): string | undefined {
  const hex = (value.startsWith('sha256:') ? value.slice('sha256:'.length) : value).toLowerCase();
  return isSha256Hex(hex) ? hex : undefined;
}

/** Validates one `sources` entry; `field` names it in errors (e.g. `sources[0]`). Returns a normalised copy. */
export function parseRemoteSource(value: unknown, field: string): RemoteSource {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new RemoteSourceError(field, 'must be an object { "url", "sha256", "path", "size"? }');
  }
  const entry = value as Record<string, unknown>;
  for (const key of Object.keys(entry)) {
    if (!['url', 'sha256', 'path', 'size'].includes(key)) {
      throw new RemoteSourceError(`${field}.${key}`, 'unknown field (allowed: url, sha256, path, size)');
    }
  }

  if (typeof entry.url !== 'string' || entry.url === '') {
    throw new RemoteSourceError(`${field}.url`, 'must be a non-empty string');
  }
  let url: URL;
  try {
    url = new URL(entry.url);
  } catch {
    throw new RemoteSourceError(`${field}.url`, `not a valid URL: ${redactUrl(entry.url)}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new RemoteSourceError(`${field}.url`, `only http and https are supported, got ${url.protocol}`);
  }
  if (url.username !== '' || url.password !== '') {
    throw new RemoteSourceError(
      `${field}.url`,
      'must not carry credentials; set a token in the environment instead (NX_ASSET_IMAGES_TOKEN_<HOST>)',
    );
  }

  if (typeof entry.sha256 !== 'string') {
    throw new RemoteSourceError(`${field}.sha256`, 'must be a string of 64 hex characters');
  }
  const sha256 = normalizeSha256(entry.sha256);
  if (sha256 === undefined) {
    throw new RemoteSourceError(`${field}.sha256`, `must be 64 hex characters, got "${entry.sha256}"`);
  }

  if (typeof entry.path !== 'string' || entry.path === '') {
    throw new RemoteSourceError(`${field}.path`, 'must be a non-empty relative path');
  }
  const path = checkRelativePath(entry.path, `${field}.path`);

  let size: number | undefined;
  if (entry.size !== undefined) {
    if (typeof entry.size !== 'number' || !Number.isSafeInteger(entry.size) || entry.size < 0) {
      throw new RemoteSourceError(`${field}.size`, 'must be a non-negative integer (bytes)');
    }
    size = entry.size;
  }

  return size === undefined ? { url: entry.url, sha256, path } : { url: entry.url, sha256, path, size };
}

/** Validates the whole `sources` array (field names `sources[i].x`); two entries may not share a `path`. */
export function parseRemoteSources(value: unknown, field = 'sources'): RemoteSource[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new RemoteSourceError(field, 'must be an array');
  const sources = value.map((entry, i) => parseRemoteSource(entry, `${field}[${i}]`));
  const seen = new Map<string, number>();
  sources.forEach((source, i) => {
    const first = seen.get(source.path);
    if (first !== undefined) {
      throw new RemoteSourceError(`${field}[${i}].path`, `"${source.path}" is already used by ${field}[${first}]`);
    }
    seen.set(source.path, i);
  });
  return sources;
}

function checkRelativePath(raw: string, field: string): string {
  if (raw.includes('\\')) throw new RemoteSourceError(field, 'use "/" as separator');
  if (raw.includes('\0')) throw new RemoteSourceError(field, 'must not contain NUL');
  if (raw.startsWith('/')) throw new RemoteSourceError(field, 'must be relative (no leading "/")');
  const normalized = posix.normalize(raw);
  if (normalized === '.' || normalized.endsWith('/') || normalized === '..' || normalized.startsWith('../')) {
    throw new RemoteSourceError(field, `must name a file inside the asset, got "${raw}"`);
  }
  return normalized;
}

export { redactUrl };

/** The last path segment of a URL, decoded (the progress label); the hostname when the path is empty. */
export function urlBasename(url: string | URL): string {
  try {
    const parsed = new URL(url.toString());
    const segments = parsed.pathname.split('/').filter((s) => s !== '');
    const last = segments.at(-1);
    if (last === undefined) return parsed.hostname;
    try {
      return decodeURIComponent(last);
    } catch {
      return last;
    }
  } catch {
    return redactUrl(url);
  }
}
