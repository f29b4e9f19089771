import { crc32, deflateRawSync, gunzipSync } from 'node:zlib';

/**
 * A deterministic .tar.gz for small evidence bundles: the same entries and mtime give the same
 * bytes, so a bundle's hash is a stable name for its content. Everything that usually varies
 * between runs is pinned: owner, mode and time in the ustar headers, and the gzip header (zlib
 * writes the OS it runs on there). Byte-identical output holds for one zlib build; a different
 * deflate implementation may compress the same tar differently, so a signature belongs on the
 * bytes as written, not on the promise of rebuilding them elsewhere.
 *
 * Plain POSIX ustar with regular files only: anything `tar` can list and extract, nothing that
 * needs pax or GNU extensions (which is why names stop at 100 bytes).
 */

export interface TarEntry {
  name: string;
  data: Uint8Array;
}

/** Anything wrong with a bundle or with entries that cannot be written as one. */
export class TarError extends Error {
  override name = 'TarError';
}

const BLOCK = 512;
const NAME_MAX = 100;
/** 11 octal digits: the largest size or mtime a plain ustar field holds. */
const OCTAL_11_MAX = 0o77777777777;
/** Gunzip refuses to grow past this: the bundles are small, and a gzip bomb should fail, not fill memory. */
const MAX_UNPACKED_BYTES = 256 * 1024 * 1024;

// Field offsets and widths from POSIX.1-1988 ustar.
const NAME = { at: 0, len: 100 };
const MODE = { at: 100, len: 8 };
const UID = { at: 108, len: 8 };
const GID = { at: 116, len: 8 };
const SIZE = { at: 124, len: 12 };
const MTIME = { at: 136, len: 12 };
const CHKSUM = { at: 148, len: 8 };
const TYPEFLAG = 156;
const MAGIC = { at: 257, len: 6 };
const VERSION = { at: 263, len: 2 };
const DEVMAJOR = { at: 329, len: 8 };
const DEVMINOR = { at: 337, len: 8 };
const PREFIX = { at: 345, len: 155 };

type Field = { at: number; len: number };

/** `len - 1` zero-padded octal digits and a NUL, the form every numeric ustar field takes. */
function writeOctal(header: Buffer, field: Field, value: number): void {
  header.write(`${value.toString(8).padStart(field.len - 1, '0')}\0`, field.at, field.len, 'ascii');
}

/**
 * Sum of the header bytes with the checksum field counted as eight spaces. POSIX sums unsigned
 * bytes; some old tars summed signed ones, which only differs for bytes over 127.
 */
function checksumOf(header: Uint8Array, signed = false): number {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) {
    const byte = header[i] ?? 0;
    const inChecksum = i >= CHKSUM.at && i < CHKSUM.at + CHKSUM.len;
    sum += inChecksum ? 0x20 : signed && byte > 127 ? byte - 256 : byte;
  }
  return sum;
}

/**
 * Printable ASCII, relative, no `..`: the bundle gets extracted by other people's tools, and a
 * name that escapes the target directory (or that a tool would read as a directory) is a hazard.
 */
function checkName(name: string): void {
  if (name === '' || !/^[\x20-\x7e]+$/.test(name)) {
    throw new TarError(`entry name ${JSON.stringify(name)} must be non-empty printable ASCII`);
  }
  if (name.length > NAME_MAX) {
    throw new TarError(
      `entry name ${JSON.stringify(name)} is ${name.length} bytes, over the ustar limit of 100`,
    );
  }
  // An empty part covers a leading `/` (absolute), a trailing one (a directory) and `a//b`.
  if (name.includes('\\') || name.split('/').some((part) => part === '..' || part === '')) {
    throw new TarError(
      `entry name ${JSON.stringify(name)} must be a relative file path without '..', empty parts or backslashes`,
    );
  }
}

function header(entry: TarEntry, mtimeSeconds: number): Buffer {
  const block = Buffer.alloc(BLOCK);
  block.write(entry.name, NAME.at, NAME.len, 'ascii');
  writeOctal(block, MODE, 0o644);
  writeOctal(block, UID, 0);
  writeOctal(block, GID, 0);
  writeOctal(block, SIZE, entry.data.length);
  writeOctal(block, MTIME, mtimeSeconds);
  block.write('0', TYPEFLAG, 1, 'ascii');
  block.write('ustar\0', MAGIC.at, MAGIC.len, 'ascii');
  block.write('00', VERSION.at, VERSION.len, 'ascii');
  writeOctal(block, DEVMAJOR, 0);
  writeOctal(block, DEVMINOR, 0);
  // Six octal digits, NUL, space: the spec's own layout, which some readers insist on.
  block.write(`${checksumOf(block).toString(8).padStart(6, '0')}\0 `, CHKSUM.at, CHKSUM.len, 'ascii');
  return block;
}

/**
 * gzip member (RFC 1952) around raw deflate, header written by hand: mtime 0, no name, OS 255
 * ("unknown"), so nothing about the machine or the moment leaks into the bytes.
 */
function gzip(data: Buffer): Buffer {
  const head = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 255]); // XFL 2: maximum compression.
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc32(data), 0);
  trailer.writeUInt32LE(data.length % 2 ** 32, 4);
  return Buffer.concat([head, deflateRawSync(data, { level: 9 }), trailer]);
}

/** Entries in the order given, every one stamped with `mtimeSeconds`; names must be unique. */
export function writeTarGz(entries: readonly TarEntry[], mtimeSeconds: number): Buffer {
  if (!Number.isInteger(mtimeSeconds) || mtimeSeconds < 0 || mtimeSeconds > OCTAL_11_MAX) {
    throw new TarError(
      `mtime ${mtimeSeconds} must be a whole number of seconds between 0 and ${OCTAL_11_MAX}`,
    );
  }
  const seen = new Set<string>();
  const parts: Buffer[] = [];
  for (const entry of entries) {
    checkName(entry.name);
    if (seen.has(entry.name)) throw new TarError(`entry name ${JSON.stringify(entry.name)} appears twice`);
    seen.add(entry.name);
    if (entry.data.length > OCTAL_11_MAX)
      throw new TarError(`entry ${JSON.stringify(entry.name)} is too large for ustar`);
    parts.push(header(entry, mtimeSeconds), Buffer.from(entry.data));
    const padding = (BLOCK - (entry.data.length % BLOCK)) % BLOCK;
    if (padding > 0) parts.push(Buffer.alloc(padding));
  }
  parts.push(Buffer.alloc(2 * BLOCK));
  return gzip(Buffer.concat(parts));
}

/** NUL-terminated (or field-filling) text. */
function readText(block: Buffer, field: Field): string {
  const raw = block.subarray(field.at, field.at + field.len);
  const end = raw.indexOf(0);
  return raw.subarray(0, end === -1 ? raw.length : end).toString('utf8');
}

/** Octal digits padded by spaces or NULs on either side, as different tars write them. */
function readOctal(block: Buffer, field: Field, what: string, at: number): number {
  const text = block.toString('latin1', field.at, field.at + field.len).replace(/^[ \0]+|[ \0]+$/g, '');
  if (!/^[0-7]+$/.test(text)) {
    throw new TarError(`header at byte ${at}: ${what} field ${JSON.stringify(text)} is not an octal number`);
  }
  return parseInt(text, 8);
}

/**
 * Other tools may write any name; the caller will likely turn it into a path, so one that is
 * absolute or climbs out with `..` is refused here rather than trusted there.
 */
function checkReadName(name: string): void {
  if (name === '' || name.startsWith('/') || name.split('/').includes('..') || name.includes('\\')) {
    throw new TarError(`entry name ${JSON.stringify(name)} is not a safe relative path`);
  }
}

function isZeroBlock(block: Uint8Array): boolean {
  return block.every((b) => b === 0);
}

function gunzip(data: Uint8Array): Buffer {
  try {
    return gunzipSync(data, { maxOutputLength: MAX_UNPACKED_BYTES });
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new TarError(`not a readable gzip stream: ${detail}`);
  }
}

/**
 * Reads back what writeTarGz writes, and plain ustar from other tools: regular files are
 * returned, directories skipped, every other entry type (links, devices, pax and GNU extension
 * headers) refused, because silently dropping one could drop part of the evidence.
 */
export function readTarGz(data: Uint8Array): TarEntry[] {
  const tar = gunzip(data);
  const entries: TarEntry[] = [];
  const seen = new Set<string>();
  let offset = 0;
  for (;;) {
    if (offset + BLOCK > tar.length) {
      throw new TarError(`truncated archive: no end-of-archive marker after ${offset} bytes`);
    }
    const block = tar.subarray(offset, offset + BLOCK);
    if (isZeroBlock(block)) return entries;
    const stored = readOctal(block, CHKSUM, 'checksum', offset);
    const actual = checksumOf(block);
    if (stored !== actual && stored !== checksumOf(block, true)) {
      throw new TarError(
        `header at byte ${offset}: checksum ${stored.toString(8)} does not match ${actual.toString(8)}`,
      );
    }
    const magic = block.toString('latin1', MAGIC.at, MAGIC.at + MAGIC.len);
    if (!magic.startsWith('ustar')) throw new TarError(`header at byte ${offset}: not a ustar header`);
    // GNU's own format ("ustar  ") keeps times where POSIX keeps the prefix: only POSIX has one.
    const prefix = magic === 'ustar\0' ? readText(block, PREFIX) : '';
    const short = readText(block, NAME);
    const name = prefix === '' ? short : `${prefix}/${short}`;
    const size = readOctal(block, SIZE, 'size', offset);
    const type = String.fromCharCode(block[TYPEFLAG] ?? 0);
    const start = offset + BLOCK;
    offset = start + Math.ceil(size / BLOCK) * BLOCK;
    if (type === '5') continue;
    if (type !== '0' && type !== '\0') {
      throw new TarError(
        `entry ${JSON.stringify(name)} has type ${JSON.stringify(type)}: only regular files are allowed`,
      );
    }
    if (start + size > tar.length) {
      throw new TarError(
        `truncated archive: entry ${JSON.stringify(name)} needs ${size} bytes, ${tar.length - start} left`,
      );
    }
    checkReadName(name);
    if (seen.has(name)) throw new TarError(`entry ${JSON.stringify(name)} appears twice`);
    seen.add(name);
    entries.push({ name, data: Buffer.from(tar.subarray(start, start + size)) });
  }
}
