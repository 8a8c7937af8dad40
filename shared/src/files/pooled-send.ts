import type { FileHandle } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';

/** One read: 64 KiB reads cap a download near 350 MiB/s here, 1 MiB reads go several times as fast. */
export const READ_BYTES = 1024 * 1024;
/** Buffers one download holds: one being sent while the next is read. */
const IN_FLIGHT = 2;
/** Buffers kept for the next downloads once one ends, so that a busy filer allocates none at all. */
const SPARE_LIMIT = 8;
const spare: Buffer[] = [];

/**
 * Writes `length` bytes of a file from `start` to a response through a few reused buffers: each is read into again
 * only once the socket has taken what it held (the write's callback), so a download allocates nothing per megabyte.
 * A stream of fresh 1 MiB buffers (fs.createReadStream) leaves each to the garbage collector, which lets tens of MiB
 * of them pile up and pays a page fault for every new one. Ends the response when all is written; destroys it when the
 * file ends early or a read fails; stops when the client goes away.
 */
export async function sendFileRange(handle: FileHandle, res: ServerResponse, start: number, length: number): Promise<void> {
  const free: Buffer[] = [];
  let owned = 0;
  let wake: (() => void) | undefined;
  const woken = () => {
    const resume = wake;
    wake = undefined;
    resume?.();
  };
  res.once('close', woken);
  const take = async (): Promise<Buffer | undefined> => {
    while (free.length === 0 && owned >= IN_FLIGHT) {
      if (res.destroyed) return undefined;
      await new Promise<void>((resolve) => (wake = resolve));
    }
    const buffer = free.pop();
    if (buffer) return buffer;
    owned += 1;
    return spare.pop() ?? Buffer.allocUnsafeSlow(READ_BYTES);
  };
  let finished = false;
  /** A buffer the socket has given back: read into again, or kept for the next download once this one is done. */
  const giveBack = (buffer: Buffer) => {
    if (!finished) {
      free.push(buffer);
      woken();
    } else if (spare.length < SPARE_LIMIT) spare.push(buffer);
  };
  const end = start + length;
  let position = start;
  try {
    while (position < end && !res.destroyed) {
      const buffer = await take();
      if (!buffer) break;
      const { bytesRead } = await handle.read(buffer, 0, Math.min(READ_BYTES, end - position), position);
      if (bytesRead === 0) throw new Error('the file ended before its length');
      position += bytesRead;
      res.write(buffer.subarray(0, bytesRead), (err) => {
        if (!err) giveBack(buffer); // after an error the response is gone, and the buffer with it
      });
    }
    if (position >= end) res.end();
    else res.destroy();
  } catch (err) {
    res.destroy(err instanceof Error ? err : new Error(String(err)));
  } finally {
    finished = true;
    res.off('close', woken);
    for (const buffer of free.splice(0)) giveBack(buffer);
  }
}
