import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { zipBytes, type ZipEntry } from '../src/zip-writer.js';

// Every zip made here is checked by Info-ZIP's unzip (CRC-32 and sizes of each entry, the central directory, the
// end records), the reader most users' tools agree with.
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'zip-writer-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function write(entries: ZipEntry[], options?: { zip64Above?: number }): Promise<string> {
  const path = join(dir, 'out.zip');
  await pipeline(Readable.from(zipBytes(entries, options), { objectMode: false }), createWriteStream(path));
  return path;
}

const file = (name: string, parts: Buffer[], mode = 0o644): ZipEntry => ({
  kind: 'file',
  name,
  open: async () => ({ data: Readable.from(parts), mtime: new Date(2024, 5, 1, 12, 30, 10), mode }),
});

const unzip = (...args: string[]) => execFileSync('unzip', args, { maxBuffer: 64 * 1024 * 1024 });

describe('zipBytes', () => {
  const data = randomBytes(300_000);
  const entries = (): ZipEntry[] => [
    { kind: 'folder', name: 'docs' },
    file('docs/report.bin', [data.subarray(0, 1000), data.subarray(1000)]),
    file('empty', []),
    file('été/naïve 文件.txt', [Buffer.from('unicode names')], 0o600),
    { kind: 'buffer', name: 'SKIPPED.txt', data: Buffer.from('x\tnot a regular file\n') },
  ];

  it.each([
    ['plain records', undefined],
    ['ZIP64 records for every size, offset and count', { zip64Above: 10 }],
  ])('writes a zip that unzip reads back byte-exact: %s', async (_name, options) => {
    const path = await write(entries(), options);
    expect(unzip('-t', path).toString()).toContain('No errors detected');
    expect(execFileSync('zipinfo', ['-1', path]).toString().trim().split('\n')).toEqual([
      'docs/',
      'docs/report.bin',
      'empty',
      'été/naïve 文件.txt',
      'SKIPPED.txt',
    ]);
    expect(unzip('-p', path, 'docs/report.bin').equals(data)).toBe(true);
    expect(unzip('-p', path, 'été/naïve 文件.txt').toString()).toBe('unicode names');
    const listing = execFileSync('zipinfo', [path]).toString();
    expect(listing).toMatch(/drwxr-xr-x .* docs\//);
    expect(listing).toMatch(/-rw------- .* 24-Jun-01 12:30 été/);
  });

  it('an entry whose data fails ends the zip with that error, and the file is closed', async () => {
    const failing = new Readable({
      read() {
        this.destroy(new Error('read error'));
      },
    });
    const broken: ZipEntry = { kind: 'file', name: 'broken', open: async () => ({ data: failing, mtime: new Date(), mode: 0o644 }) };
    await expect(write([file('ok', [Buffer.from('fine')]), broken])).rejects.toThrow('read error');
    expect(failing.destroyed).toBe(true);
  });

  it('a zip abandoned midway destroys the file stream it was reading', async () => {
    const endless = new Readable({
      read() {
        this.push(Buffer.alloc(65536));
      },
    });
    const generator = zipBytes([{ kind: 'file', name: 'endless', open: async () => ({ data: endless, mtime: new Date(), mode: 0o644 }) }]);
    await generator.next(); // the header
    await generator.next(); // some data
    await generator.return(undefined);
    expect(endless.destroyed).toBe(true);
  });
});
