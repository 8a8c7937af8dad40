import type { FileHandle } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';

/** One read: 64 KiB reads cap a download near 350 MiB/s here, 1 MiB reads go several times as fast. */
export const READ_BYTES = 1024 * 1024;
/** Buffers one transfer holds: one being sent while the next is read. */
const IN_FLIGHT = 2;
/** Buffers kept for the next transfers once one ends, so that a busy filer allocates none at all. */
const SPARE_LIMIT = 8;
const spare: Buffer[] = [];

/**
 * The read buffers of one transfer (a download, a zip): a few, each read into again only once the socket has taken
 * what it held (the write's callback gives it back), so a transfer allocates nothing per megabyte. A stream of fresh
 * 1 MiB buffers (fs.createReadStream) leaves each to the garbage collector, which lets tens of MiB of them pile up and
 * pays a page fault for every new one. A chunk handed out is a view of its buffer; `give` takes the view back.
 */
export class ReadBuffers {
  readonly #free: Buffer[] = [];
  readonly #bufferOf = new WeakMap<Buffer, Buffer>();
  #owned = 0;
  #wake: (() => void) | undefined;
  #finished = false;

  /** A buffer to read into, once one is free; none once the transfer is finished (it was abandoned). */
  async take(): Promise<Buffer | undefined> {
    while (this.#free.length === 0 && this.#owned >= IN_FLIGHT) {
      if (this.#finished) return undefined;
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
    if (this.#finished) return undefined;
    const buffer = this.#free.pop();
    if (buffer) return buffer;
    this.#owned += 1;
    return spare.pop() ?? Buffer.allocUnsafeSlow(READ_BYTES);
  }

  /** The first `length` bytes of `buffer` as the chunk to send. */
  chunk(buffer: Buffer, length: number): Buffer {
    const view = buffer.subarray(0, length);
    this.#bufferOf.set(view, buffer);
    return view;
  }

  /** A chunk the socket has taken: its buffer is read into again, or kept for the next transfer. Others are ignored. */
  give(chunk: Buffer): void {
    const buffer = this.#bufferOf.get(chunk);
    if (!buffer) return;
    this.#bufferOf.delete(chunk);
    if (!this.#finished) {
      this.#free.push(buffer);
      this.#resume();
    } else if (spare.length < SPARE_LIMIT) spare.push(buffer);
  }

  /** The transfer is over (done or abandoned): a reader waiting for a buffer gets none, the free ones are kept. */
  finish(): void {
    this.#finished = true;
    for (const buffer of this.#free.splice(0)) if (spare.length < SPARE_LIMIT) spare.push(buffer);
    this.#resume();
  }

  #resume(): void {
    const resume = this.#wake;
    this.#wake = undefined;
    resume?.();
  }
}

/**
 * A file's chunks read into `buffers`: from its current position to its end, or exactly the bytes
 * [start, start + length) of a range (a file that ends before is an error).
 */
export async function* fileChunks(handle: FileHandle, buffers: ReadBuffers, range?: { start: number; length: number }): AsyncGenerator<Buffer> {
  const end = range ? range.start + range.length : Infinity;
  for (let position = range?.start ?? 0; position < end;) {
    const buffer = await buffers.take();
    if (!buffer) return;
    const { bytesRead } = await handle.read(buffer, 0, Math.min(READ_BYTES, end - position), range ? position : null);
    if (bytesRead === 0) {
      buffers.give(buffers.chunk(buffer, 0));
      if (range) throw new Error('the file ended before its length');
      return;
    }
    position += bytesRead;
    yield buffers.chunk(buffer, bytesRead);
  }
}

/**
 * Writes chunks to a response, each buffer given back once the socket has taken it (which is what paces the reads);
 * ends the response when they are all written, destroys it when they fail, stops when the client goes away. Resolves
 * either way; the error, if any, is returned.
 */
export async function writeChunks(res: ServerResponse, chunks: AsyncIterable<Buffer>, buffers: ReadBuffers): Promise<Error | undefined> {
  try {
    for await (const chunk of chunks) {
      if (res.destroyed) break;
      // no wait for 'drain': what is in flight is bounded by the buffers (a file's chunks) and is small otherwise
      res.write(chunk, (err) => {
        if (!err) buffers.give(chunk); // after an error the response is gone, and the buffer with it
      });
    }
    if (!res.destroyed) res.end();
    return undefined;
  } catch (err) {
    const error = err instanceof Error ? err : new Error(String(err));
    res.destroy(error);
    return error;
  } finally {
    buffers.finish();
  }
}

/** A file's bytes [start, start + length) to a response, through reused buffers (see ReadBuffers). */
export async function sendFileRange(handle: FileHandle, res: ServerResponse, start: number, length: number): Promise<void> {
  const buffers = new ReadBuffers();
  await writeChunks(res, fileChunks(handle, buffers, { start, length }), buffers);
}
