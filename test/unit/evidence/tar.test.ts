import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { TarError, readTarGz, writeTarGz, type TarEntry } from '../../../evidence/tar.js';

const MTIME = 1_767_225_600; // 2026-01-01T00:00:00Z

const binary = Buffer.alloc(1500);
for (let i = 0; i < binary.length; i++) binary[i] = (i * 37) % 256;

const ENTRIES: TarEntry[] = [
  { name: 'manifest.json', data: Buffer.from('{"version":1}\n') },
  { name: 'empty.txt', data: new Uint8Array() },
  { name: 'block.bin', data: Buffer.alloc(512, 0x61) },
  { name: 'parts/one-over.bin', data: Buffer.alloc(513, 0x62) },
  { name: 'parts/binary.bin', data: binary },
  { name: `${'n'.repeat(96)}.txt`, data: Buffer.from('a name of exactly 100 bytes') },
];

const work = mkdtempSync(path.join(tmpdir(), 'scopewatch-tar-test-'));
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

let dirCount = 0;
const freshDir = (): string => {
  const dir = path.join(work, String(dirCount++));
  mkdirSync(dir);
  return dir;
};

const tar = (args: string[]): string => {
  const result = spawnSync('tar', args, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`tar ${args.join(' ')} failed: ${result.stderr}`);
  return result.stdout;
};

/** Comparable form: names with contents as hex, so a mismatch shows which entry differs. */
const summary = (entries: readonly TarEntry[]): [string, string][] =>
  entries.map((e) => [e.name, Buffer.from(e.data).toString('hex')]);

const errorOf = (data: Uint8Array): TarError => {
  try {
    readTarGz(data);
  } catch (error) {
    if (error instanceof TarError) return error;
    throw error;
  }
  throw new Error('expected readTarGz to throw');
};

/** The archive with `edit` applied to the uncompressed tar, gzipped again. */
const editTar = (archive: Buffer, edit: (tar: Buffer) => Buffer): Buffer =>
  gzipSync(edit(gunzipSync(archive)));

describe('writeTarGz / readTarGz', () => {
  it('round trips entries in order', () => {
    expect(summary(readTarGz(writeTarGz(ENTRIES, MTIME)))).toEqual(summary(ENTRIES));
    expect(readTarGz(writeTarGz([], MTIME))).toEqual([]);
  });

  it('writes byte-identical output for the same input, and pins the gzip header', () => {
    const first = writeTarGz(ENTRIES, MTIME);
    expect(writeTarGz(ENTRIES, MTIME).equals(first)).toBe(true);
    expect(writeTarGz(ENTRIES, MTIME + 1).equals(first)).toBe(false);
    // Magic, deflate, no flags, mtime 0, XFL 2, OS 255 (unknown).
    expect(first.subarray(0, 10).toString('hex')).toBe('1f8b08000000000002ff');
  });

  it('writes ustar headers with a checksum of 6 octal digits, NUL, space', () => {
    const tarBytes = gunzipSync(writeTarGz(ENTRIES.slice(0, 1), MTIME));
    expect(tarBytes.length).toBe(512 * 4); // header, one data block, two end blocks
    const header = tarBytes.subarray(0, 512);
    const field = header.toString('latin1', 148, 156);
    expect(field).toMatch(/^[0-7]{6}\0 $/);
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : (header[i] ?? 0);
    expect(parseInt(field.slice(0, 6), 8)).toBe(sum);
    expect(header.toString('latin1', 100, 108)).toBe('0000644\0');
    expect(header.toString('latin1', 136, 148)).toBe(`${MTIME.toString(8)}\0`);
    expect(header.toString('latin1', 257, 265)).toBe('ustar\x0000');
    expect(tarBytes.subarray(1024).every((b) => b === 0)).toBe(true);
  });

  it('is listed and extracted by the system tar', () => {
    const file = path.join(freshDir(), 'bundle.tar.gz');
    writeFileSync(file, writeTarGz(ENTRIES, MTIME));
    expect(tar(['-tzf', file]).split('\n').filter(Boolean)).toEqual(ENTRIES.map((e) => e.name));
    const listing = tar(['--numeric-owner', '-tvzf', file]).split('\n').filter(Boolean);
    for (const line of listing) expect(line).toMatch(/^-rw-r--r-- 0\/0 .* 2026-01-01 /);
    const out = freshDir();
    tar(['-xzf', file, '-C', out]);
    for (const entry of ENTRIES) {
      expect(readFileSync(path.join(out, entry.name)).equals(Buffer.from(entry.data)), entry.name).toBe(true);
    }
  });

  it('reads ustar and GNU archives the system tar writes, skipping directories', () => {
    const src = freshDir();
    mkdirSync(path.join(src, 'sub'));
    writeFileSync(path.join(src, 'a.txt'), 'alpha');
    writeFileSync(path.join(src, 'sub', 'b.bin'), binary);
    for (const format of ['ustar', 'gnu']) {
      const file = path.join(freshDir(), `${format}.tar.gz`);
      tar([`--format=${format}`, '-czf', file, '-C', src, 'a.txt', 'sub']);
      const entries = readTarGz(readFileSync(file)).sort((x, y) => (x.name < y.name ? -1 : 1));
      expect(summary(entries), format).toEqual(
        summary([
          { name: 'a.txt', data: Buffer.from('alpha') },
          { name: 'sub/b.bin', data: binary },
        ]),
      );
    }
  });

  it('reads a name split into ustar prefix and name', () => {
    const src = freshDir();
    const deep = path.join(src, 'd'.repeat(60), 'e'.repeat(60));
    mkdirSync(deep, { recursive: true });
    writeFileSync(path.join(deep, 'f.txt'), 'deep');
    const file = path.join(freshDir(), 'long.tar.gz');
    tar(['--format=ustar', '-czf', file, '-C', src, '.']);
    const names = readTarGz(readFileSync(file)).map((e) => e.name);
    expect(names).toEqual([`./${'d'.repeat(60)}/${'e'.repeat(60)}/f.txt`]);
  });

  it('rejects entry types other than regular files and directories', () => {
    const src = freshDir();
    writeFileSync(path.join(src, 'target.txt'), 'x');
    symlinkSync('target.txt', path.join(src, 'link'));
    const file = path.join(freshDir(), 'link.tar.gz');
    tar(['--format=ustar', '-czf', file, '-C', src, 'target.txt', 'link']);
    expect(errorOf(readFileSync(file)).message).toBe(
      'entry "link" has type "2": only regular files are allowed',
    );
  });

  it('rejects a corrupted header checksum', () => {
    const archive = writeTarGz(ENTRIES, MTIME);
    const renamed = editTar(archive, (t) => {
      t[0] = 'X'.charCodeAt(0);
      return t;
    });
    expect(errorOf(renamed).message).toMatch(/^header at byte 0: checksum \d+ does not match \d+$/);
    const second = editTar(archive, (t) => {
      t[1024 + 148] = '7'.charCodeAt(0); // the second header's checksum field itself
      return t;
    });
    expect(errorOf(second).message).toMatch(/^header at byte 1024: checksum/);
  });

  it('rejects truncated data', () => {
    const archive = writeTarGz(ENTRIES, MTIME);
    const big = writeTarGz([{ name: 'big.bin', data: binary }], MTIME);
    expect(errorOf(editTar(big, (t) => t.subarray(0, 512 + 1000))).message).toBe(
      'truncated archive: entry "big.bin" needs 1500 bytes, 1000 left',
    );
    expect(errorOf(editTar(archive, (t) => t.subarray(0, 1024))).message).toMatch(
      /^truncated archive: no end-of-archive marker/,
    );
    expect(errorOf(archive.subarray(0, archive.length - 20)).message).toMatch(/^not a readable gzip stream/);
    expect(errorOf(Buffer.from('not gzip at all')).message).toMatch(/^not a readable gzip stream/);
    expect(errorOf(gzipSync(Buffer.alloc(512, 0x41))).message).toMatch(/not an octal number/);
  });

  it('rejects names over 100 bytes and other unsafe names', () => {
    const write = (name: string) => () => writeTarGz([{ name, data: new Uint8Array() }], MTIME);
    expect(write('x'.repeat(101))).toThrow(
      new TarError(`entry name "${'x'.repeat(101)}" is 101 bytes, over the ustar limit of 100`),
    );
    expect(write('x'.repeat(100))).not.toThrow();
    for (const name of [
      '',
      'caf\u00e9.txt',
      'tab\tname',
      '/etc/passwd',
      '../up',
      'a/../b',
      'dir/',
      'a//b',
      'a\\b',
    ]) {
      expect(write(name), JSON.stringify(name)).toThrow(TarError);
    }
  });

  it('rejects duplicate names and an unrepresentable mtime', () => {
    const twice = [ENTRIES[0], ENTRIES[0]].filter((e): e is TarEntry => e !== undefined);
    expect(() => writeTarGz(twice, MTIME)).toThrow(/appears twice/);
    for (const mtime of [-1, 1.5, Number.NaN, 0o100000000000]) {
      expect(() => writeTarGz(ENTRIES, mtime), String(mtime)).toThrow(TarError);
    }
  });

  it('rejects archives from other tools whose names climb out of the target', () => {
    const archive = writeTarGz([{ name: 'aa/b.txt', data: Buffer.from('x') }], MTIME);
    const climbing = editTar(archive, (t) => {
      t.write('../b.txt\0', 0, 'ascii');
      const header = t.subarray(0, 512);
      let sum = 0;
      for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : (header[i] ?? 0);
      t.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
      return t;
    });
    expect(errorOf(climbing).message).toBe('entry name "../b.txt" is not a safe relative path');
  });
});
