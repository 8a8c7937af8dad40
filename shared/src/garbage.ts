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

/** How long after a transfer ends its last buffers are let go of (the socket's last writes, the file's last read). */
export const COLLECT_AFTER_TRANSFER_MS = 500;

let collection: NodeJS.Timeout | undefined;

/**
 * Called when a transfer of `bytes` ends (done, failed or abandoned). One that moved at least COLLECT_EVERY_BYTES
 * gets a full collection COLLECT_AFTER_TRANSFER_MS later, one for all the transfers ending meanwhile: the young
 * collections above promote the buffers in flight at each of them, which then die in the old generation (5-10 MiB of
 * them after a 1 GiB transfer here), held until V8 happens to collect it, which an idle agent may not do for hours.
 * Collected, the next transfer reuses that memory instead of adding to it. (A full collection is `gc()`: the `type:
 * 'major'` form leaves those buffers' memory to a later sweep.)
 */
export function noteTransferEnded(bytes: number): void {
  if (bytes < COLLECT_EVERY_BYTES || collection || !globalThis.gc) return;
  collection = setTimeout(() => {
    collection = undefined;
    globalThis.gc?.();
  }, COLLECT_AFTER_TRANSFER_MS);
  collection.unref();
}

/**
 * A pass-through stage that counts what flows through it with noteBytesMoved (a download, a zip), and notes the
 * transfer's end when it closes.
 */
export function countBytesMoved(): Transform {
  let bytes = 0;
  const stage = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      bytes += chunk.length;
      noteBytesMoved(chunk.length);
      callback(null, chunk);
    },
  });
  stage.once('close', () => noteTransferEnded(bytes));
  return stage;
}
