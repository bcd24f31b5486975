/**
 * Remote sources: files an asset takes from a model hub, a bucket or an HTTP
 * server, pinned by sha256 in `asset.json`:
 *
 *   "sources": [{ "url": "https://…/model.safetensors", "sha256": "<64 hex>", "path": "model.safetensors", "size": 123 }]
 *
 * Pure: the source record, sha256 checks and URL redaction (asset.json's
 * `sources` are validated by manifest/manifest.ts). No fs, no network.
 */
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
