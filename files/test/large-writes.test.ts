import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LargeWriteFile } from '../src/large-writes.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'large-writes-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** `data` cut into chunks of the given sizes, cycling through them. */
function chunks(data: Buffer, sizes: number[]): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0, i = 0; at < data.length; i++) {
    const size = sizes[i % sizes.length] ?? 1;
    out.push(data.subarray(at, at + size));
    at += size;
  }
  return out;
}

/** This process's descriptors open on path. */
function openDescriptorsOf(path: string): string[] {
  return readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) === path;
    } catch {
      return false;
    }
  });
}

describe('LargeWriteFile', () => {
  it.each([
    ['one byte at a time past the vector limit', 5000, [1]],
    ['socket-sized reads', 300_000, [65536, 1000, 7]],
    ['chunks larger than one write', 200_000, [50_000]],
    ['nothing', 0, [1]],
  ])('writes %s byte-exact, gathered into large writes', async (_name, size, sizes) => {
    const data = randomBytes(size);
    const path = join(dir, 'file');
    // 4 KiB writes here so that many of them overlap with what is gathered next
    const writer = new LargeWriteFile(path, 0o600, 4096);
    await pipeline(Readable.from(chunks(data, sizes)), writer);
    expect(readFileSync(path).equals(data)).toBe(true);
    expect(writer.bytesWritten).toBe(size);
  });

  it('never writes over a file that is already there', async () => {
    const path = join(dir, 'taken');
    writeFileSync(path, 'keep me');
    await expect(pipeline(Readable.from([Buffer.from('new')]), new LargeWriteFile(path))).rejects.toMatchObject({ code: 'EEXIST' });
    expect(readFileSync(path, 'utf8')).toBe('keep me');
  });

  it('a source that fails midway fails the pipeline and closes the file (the caller removes it)', async () => {
    const path = join(dir, 'cut');
    async function* cut() {
      yield randomBytes(10_000);
      throw new Error('connection reset');
    }
    await expect(pipeline(Readable.from(cut()), new LargeWriteFile(path, 0o600, 4096))).rejects.toThrow('connection reset');
    expect(existsSync(path)).toBe(true);
    await expect.poll(() => openDescriptorsOf(path)).toEqual([]);
  });
});
