/**
 * Tar header encoding (POSIX ustar + PAX extended headers), written by hand.
 *
 * Why not tar-stream's encoder: tar-stream 3 does not export `headers.js`
 * (its package `exports` map only exposes `.`), and its pack stream is
 * asynchronous, picks its own PAX header names, writes base-256 sizes instead
 * of PAX `size` records, and fills fields in its own way. A single-file layer
 * must be framed synchronously (`prefix ‖ file ‖ suffix`) with bytes we fully
 * control and that never change with a dependency upgrade, since they decide
 * layer digests. The layout follows POSIX.1-2001 and Go's archive/tar
 * (which is what Docker and containerd read).
 */

export const BLOCK_SIZE = 512;
/** End-of-archive marker: two zero blocks. */
export const END_OF_ARCHIVE = Buffer.alloc(2 * BLOCK_SIZE);

const NAME_SIZE = 100;
const PREFIX_SIZE = 155;
/** Largest value an 11-digit octal field holds (8 GiB - 1). */
const MAX_OCTAL_11 = 0o77777777777;

export type TarEntryType = 'file' | 'directory';

export interface TarHeaderFields {
  /** Path inside the archive, relative, `/`-separated, without trailing slash (added for directories). */
  path: string;
  type: TarEntryType;
  /** Permission bits (e.g. 0o644). */
  mode: number;
  /** Content size in bytes (0 for directories). */
  size: number;
  /** Modification time in whole seconds since the epoch. */
  mtime: number;
}

export class TarHeaderError extends Error {
  override readonly name = 'TarHeaderError';
  constructor(
    message: string,
    readonly path: string,
  ) {
    super(message);
  }
}

/** Bytes of padding after `size` bytes of content to reach a block boundary. */
export function paddingFor(size: number): number {
  const rest = size % BLOCK_SIZE;
  return rest === 0 ? 0 : BLOCK_SIZE - rest;
}

/**
 * The header block(s) for one entry: a PAX extended header (when the name or
 * size does not fit ustar) followed by the ustar header. Content and its
 * padding follow in the archive.
 */
export function encodeEntryHeader(fields: TarHeaderFields): Buffer {
  if (!Number.isSafeInteger(fields.size) || fields.size < 0) throw new TarHeaderError(`invalid size ${fields.size}`, fields.path);
  if (!Number.isSafeInteger(fields.mtime) || fields.mtime < 0 || fields.mtime > MAX_OCTAL_11) {
    throw new TarHeaderError(`invalid mtime ${fields.mtime}`, fields.path);
  }
  const name = fields.type === 'directory' ? `${fields.path}/` : fields.path;
  const pax: [string, string][] = [];
  let ustarName = name;
  let ustarPrefix = '';
  if (!fitsUstarName(name)) {
    const split = splitUstarPath(name);
    if (split) {
      [ustarPrefix, ustarName] = split;
    } else {
      pax.push(['path', name]);
      ustarName = asciiFallback(name, NAME_SIZE);
    }
  }
  let ustarSize = fields.size;
  if (fields.size > MAX_OCTAL_11) {
    pax.push(['size', String(fields.size)]);
    ustarSize = 0;
  }
  const header = ustarBlock({
    name: ustarName,
    prefix: ustarPrefix,
    mode: fields.mode,
    size: ustarSize,
    mtime: fields.mtime,
    typeflag: fields.type === 'directory' ? '5' : '0',
  });
  if (pax.length === 0) return header;
  const records = Buffer.from(pax.map(([key, value]) => paxRecord(key, value)).join(''), 'utf8');
  const paxHeader = ustarBlock({
    name: asciiFallback(`PaxHeaders/${baseName(name)}`, NAME_SIZE),
    prefix: '',
    mode: 0o644,
    size: records.length,
    mtime: fields.mtime,
    typeflag: 'x',
  });
  return Buffer.concat([paxHeader, records, Buffer.alloc(paddingFor(records.length)), header]);
}

/** `"<len> key=value\n"` where `<len>` counts the whole record, its own digits included. */
export function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  const bodyLength = Buffer.byteLength(body, 'utf8');
  let length = bodyLength + String(bodyLength).length;
  if (String(length).length !== String(bodyLength).length) length = bodyLength + String(length).length;
  return `${length}${body}`;
}

interface UstarFields {
  name: string;
  prefix: string;
  mode: number;
  size: number;
  mtime: number;
  typeflag: '0' | '5' | 'x';
}

/** The fields every header has the same: uid, gid, magic, version, devmajor, devminor (copied, not written each time). */
const USTAR_TEMPLATE = (() => {
  const block = Buffer.alloc(BLOCK_SIZE);
  writeOctal(block, 108, 8, 0); // uid
  writeOctal(block, 116, 8, 0); // gid
  block.write('ustar\0', 257, 6, 'ascii');
  block.write('00', 263, 2, 'ascii');
  // uname (265) and gname (297) stay empty.
  writeOctal(block, 329, 8, 0); // devmajor
  writeOctal(block, 337, 8, 0); // devminor
  block.fill(0x20, 148, 156); // the checksum field, read as spaces while summing
  return block;
})();

function ustarBlock(fields: UstarFields): Buffer {
  const block = Buffer.allocUnsafe(BLOCK_SIZE);
  USTAR_TEMPLATE.copy(block);
  block.write(fields.name, 0, NAME_SIZE, 'ascii');
  writeOctal(block, 100, 8, fields.mode & 0o7777);
  writeOctal(block, 124, 12, fields.size);
  writeOctal(block, 136, 12, fields.mtime);
  block.write(fields.typeflag, 156, 1, 'ascii');
  block.write(fields.prefix, 345, PREFIX_SIZE, 'ascii');
  // Checksum: sum of all bytes with the checksum field read as spaces; written as 6 octal digits, NUL, space.
  let sum = 0;
  // An indexed loop: the iterator of a Buffer costs ~10 µs a header, which a corpus of 100,000 files feels.
  for (let i = 0; i < BLOCK_SIZE; i++) sum += block[i]!;
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'ascii');
  return block;
}

/** Zero-padded octal with a trailing NUL, filling the field. */
function writeOctal(block: Buffer, offset: number, length: number, value: number): void {
  const digits = value.toString(8).padStart(length - 1, '0');
  if (digits.length > length - 1) throw new TarHeaderError(`value ${value} does not fit a ${length}-byte field`, '');
  block.write(`${digits}\0`, offset, length, 'ascii');
}

function isAscii(value: string): boolean {
  return /^[\x20-\x7e]*$/.test(value);
}

function fitsUstarName(name: string): boolean {
  return isAscii(name) && name.length <= NAME_SIZE;
}

/** ustar `prefix`/`name` split at a slash, as Go's archive/tar does; undefined when impossible. */
function splitUstarPath(path: string): [string, string] | undefined {
  if (!isAscii(path) || path.length <= NAME_SIZE) return undefined;
  let length = path.length;
  if (length > PREFIX_SIZE + 1) length = PREFIX_SIZE + 1;
  else if (path[length - 1] === '/') length--;
  const i = path.lastIndexOf('/', length - 1);
  const nameLength = path.length - i - 1;
  if (i <= 0 || nameLength > NAME_SIZE || nameLength === 0 || i > PREFIX_SIZE) return undefined;
  return [path.slice(0, i), path.slice(i + 1)];
}

function baseName(path: string): string {
  const trimmed = path.endsWith('/') ? path.slice(0, -1) : path;
  return trimmed.slice(trimmed.lastIndexOf('/') + 1);
}

/** A printable-ASCII stand-in for a name carried in a PAX record (readers use the PAX value). */
function asciiFallback(value: string, max: number): string {
  return value.replace(/[^\x20-\x7e]/g, '_').slice(0, max);
}
