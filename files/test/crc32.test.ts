import { randomBytes } from 'node:crypto';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { fastestCrc32 } from '../src/crc32.js';

describe('fastestCrc32', () => {
  it('is the native one on this machine, not the fallback', async () => {
    expect(fastestCrc32()).not.toBe(zlibCrc32);
  });

  it('agrees with zlib on known values, on random data, and when continued chunk by chunk', async () => {
    const crc32 = fastestCrc32();
    expect(crc32(new Uint8Array(0))).toBe(0);
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926); // the CRC-32/ISO-HDLC check value
    const data = randomBytes(3 * 1024 * 1024 + 7);
    expect(crc32(data)).toBe(zlibCrc32(data));
    let running = 0;
    for (let at = 0; at < data.length; at += 65_537) running = crc32(data.subarray(at, at + 65_537), running);
    expect(running).toBe(zlibCrc32(data));
    // a view into a larger buffer is read at its own offset
    expect(crc32(data.subarray(5, 1005))).toBe(zlibCrc32(data.subarray(5, 1005)));
  });
});
