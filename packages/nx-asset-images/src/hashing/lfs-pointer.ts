/**
 * Git LFS pointer files (https://github.com/git-lfs/git-lfs/blob/main/docs/spec.md):
 * what a checkout without the LFS download leaves in place of a large file.
 * Its `oid sha256:` and `size` are the real file's checksum and size, so an
 * asset can be keyed and built from the pointer without the bytes. Pure.
 */
import { digestHex, isDigest } from '../oci/digest';

/** git-lfs reads a file as a possible pointer only when it is smaller than this. */
export const MAX_LFS_POINTER_SIZE = 1024;

/** The spec's version line, and the one of its predecessor that git-lfs still accepts. */
const VERSIONS = ['https://git-lfs.github.com/spec/v1', 'https://hawser.github.com/spec/v1'];

export interface LfsPointer {
  /** sha256 of the real file, lowercase hex. */
  sha256: string;
  /** Size of the real file in bytes. */
  size: number;
}

export type LfsPointerParse =
  | { kind: 'pointer'; pointer: LfsPointer }
  | { kind: 'not-pointer' }
  /** Starts with an LFS version line but is not a valid pointer: `reason` says what is wrong. */
  | { kind: 'malformed'; reason: string };

/** Whether a file of this size can be a pointer (so its first bytes are worth reading). */
export function mayBeLfsPointer(size: number): boolean {
  return size > 0 && size < MAX_LFS_POINTER_SIZE;
}

export function parseLfsPointer(content: Buffer | string): LfsPointerParse {
  const text = typeof content === 'string' ? content : content.toString('utf8');
  if (text.length >= MAX_LFS_POINTER_SIZE || !VERSIONS.some((v) => text.startsWith(`version ${v}\n`) || text === `version ${v}`)) {
    return { kind: 'not-pointer' };
  }
  if (!text.endsWith('\n')) return { kind: 'malformed', reason: 'the last line does not end with a newline' };
  const values = new Map<string, string>();
  const lines = text.slice(0, -1).split('\n');
  for (const [i, line] of lines.entries()) {
    const match = /^([a-z0-9.-]+) ([^\r\n]*)$/.exec(line);
    if (!match) return { kind: 'malformed', reason: `line ${i + 1} is not "key value"` };
    if (values.has(match[1]!)) return { kind: 'malformed', reason: `key "${match[1]}" appears twice` };
    values.set(match[1]!, match[2]!);
  }
  const oid = values.get('oid');
  if (oid === undefined) return { kind: 'malformed', reason: 'no "oid" line' };
  if (!isDigest(oid)) return { kind: 'malformed', reason: `oid "${oid}" is not sha256:<64 lowercase hex digits>` };
  const size = values.get('size');
  if (size === undefined) return { kind: 'malformed', reason: 'no "size" line' };
  if (!/^(0|[1-9][0-9]*)$/.test(size) || !Number.isSafeInteger(Number(size))) {
    return { kind: 'malformed', reason: `size "${size}" is not a whole number of bytes` };
  }
  return { kind: 'pointer', pointer: { sha256: digestHex(oid), size: Number(size) } };
}
