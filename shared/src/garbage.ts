import { Transform } from 'node:stream';

/** Bytes moved between two young-generation collections. */
export const COLLECT_EVERY_BYTES = 4 * 1024 * 1024;

let moved = 0;

/**
 * Counts bytes a transfer moved through short-lived buffers (the socket reads of an upload, the file reads of a
 * download) and collects the young generation every COLLECT_EVERY_BYTES. Left to itself V8 lets ~32 MiB of such dead
 * buffers pile up before it frees them, which is what a process moving a file holds above idle; a minor collection
 * (~0.3 ms here) every 4 MiB keeps that to a few MiB. Works where the process runs with `--expose-gc`, as every
 * agent's start script does; elsewhere (tests importing the kit) it only counts.
 */
export function noteBytesMoved(bytes: number): void {
  moved += bytes;
  if (moved < COLLECT_EVERY_BYTES) return;
  moved = 0;
  globalThis.gc?.({ type: 'minor', execution: 'sync' });
}

/** A pass-through stage that counts what flows through it with noteBytesMoved (a download, a zip). */
export function countBytesMoved(): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      noteBytesMoved(chunk.length);
      callback(null, chunk);
    },
  });
}
