import { createRequire } from 'node:module';
import { crc32 as zlibCrc32 } from 'node:zlib';

/** CRC-32 (ISO-HDLC, as zip and gzip use it) of `data`, continuing from `initial` (the CRC of what came before). */
export type Crc32 = (data: Uint8Array, initial?: number) => number;

interface NativeCrc32Module {
  crc32(input: Uint8Array, initialState?: number): number;
}

let chosen: Crc32 | undefined;

/**
 * The fastest CRC-32 this machine has: @node-rs/crc32 (PCLMULQDQ or ARMv8 CRC instructions, ~15 GB/s here) where its
 * prebuilt binary loads, else Node's zlib.crc32 (tables, ~2 GB/s here, which held a zip of one large file near 0.7 ×
 * a plain download of it). Loaded on first use, so an agent that never zips never maps the native library; required
 * rather than imported, which would parse it for named exports first (~9 MiB more RSS here).
 */
export function fastestCrc32(): Crc32 {
  if (!chosen) {
    try {
      chosen = (createRequire(import.meta.url)('@node-rs/crc32') as NativeCrc32Module).crc32;
    } catch {
      chosen = zlibCrc32;
    }
  }
  return chosen;
}
