import { open, type FileHandle } from 'node:fs/promises';
import { Writable } from 'node:stream';

/** Bytes gathered before one write: a socket hands over 64 KiB at a time, a disk wants more. */
export const WRITE_BYTES = 1024 * 1024;

/**
 * A new file written in large writes: what arrives is gathered up to `writeBytes` and written with one writev, so a
 * 1 GiB upload costs ~1,000 writes instead of ~16,000, and the next megabyte is gathered while one is being written
 * (the sender is not paused for each write). Nothing is synced here; the caller fsyncs once at the end. At most
 * twice `writeBytes` are held: the write in flight and the one being gathered.
 */
export class LargeWriteFile extends Writable {
  #handle: FileHandle | undefined;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #written = 0;
  /** The write in flight, if any; its failure fails the next write, the end or the close. */
  #inFlight: Promise<void> | undefined;

  constructor(
    private readonly path: string,
    private readonly mode = 0o644,
    private readonly writeBytes = WRITE_BYTES,
  ) {
    super({ highWaterMark: writeBytes });
  }

  /** Bytes written to the file so far. */
  get bytesWritten(): number {
    return this.#written;
  }

  override _construct(callback: (error?: Error | null) => void): void {
    // wx: a new file only, never one that appeared under the name meanwhile
    open(this.path, 'wx', this.mode).then(
      (handle) => {
        this.#handle = handle;
        callback();
      },
      (err: Error) => callback(err),
    );
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#pending.push(chunk);
    this.#pendingBytes += chunk.length;
    if (this.#pendingBytes < this.writeBytes) return callback();
    // one write at a time: this megabyte waits for the one before it, then goes while the next is gathered
    this.#settled().then(() => {
      this.#inFlight = this.#flush();
      this.#inFlight.catch(() => undefined); // reported by the next write, the end or the close
      callback();
    }, callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#settled()
      .then(() => this.#flush())
      .then(() => callback(), callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#pending = [];
    // the write in flight ends before its descriptor is closed
    const inFlight = this.#inFlight ?? Promise.resolve();
    inFlight
      .catch(() => undefined)
      .then(async () => {
        const handle = this.#handle;
        this.#handle = undefined;
        await handle?.close();
      })
      .then(
        () => callback(error),
        (closeError: Error) => callback(error ?? closeError),
      );
  }

  async #settled(): Promise<void> {
    const inFlight = this.#inFlight;
    this.#inFlight = undefined;
    await inFlight;
  }

  async #flush(): Promise<void> {
    const handle = this.#handle;
    if (!handle) throw new Error('file is not open');
    // many small chunks (a slow sender) are joined first: one copy of little, and writev's vector stays short
    let buffers = this.#pending.length > 64 ? [Buffer.concat(this.#pending)] : this.#pending;
    this.#pending = [];
    this.#pendingBytes = 0;
    // writev may write less than asked (a full disk, a signal): the rest is written again until all is
    while (buffers.length > 0) {
      const { bytesWritten } = await handle.writev(buffers, this.#written);
      if (bytesWritten === 0) throw new Error(`no progress writing ${this.path}`);
      this.#written += bytesWritten;
      buffers = remainder(buffers, bytesWritten);
    }
  }
}

/** The buffers left once `written` bytes of them are written. */
function remainder(buffers: Buffer[], written: number): Buffer[] {
  let skip = written;
  let i = 0;
  for (; i < buffers.length && skip >= (buffers[i]?.length ?? 0); i++) skip -= buffers[i]?.length ?? 0;
  const rest = buffers.slice(i);
  if (skip > 0 && rest[0]) rest[0] = rest[0].subarray(skip);
  return rest;
}
