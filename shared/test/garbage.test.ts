import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { COLLECT_AFTER_TRANSFER_MS, COLLECT_EVERY_BYTES, countBytesMoved, noteBytesMoved, noteTransferEnded } from '../src/garbage.js';

const exposed = globalThis.gc;
afterEach(() => {
  globalThis.gc = exposed;
});

describe('the garbage bound of transfers', () => {
  it('asks for one young collection per COLLECT_EVERY_BYTES moved, where the process exposes gc', () => {
    const gc = vi.fn();
    globalThis.gc = gc;
    noteBytesMoved(COLLECT_EVERY_BYTES); // whatever was counted before, this completes a round
    gc.mockClear();
    for (let i = 0; i < 3 * 64; i++) noteBytesMoved(COLLECT_EVERY_BYTES / 64);
    expect(gc).toHaveBeenCalledTimes(3);
    expect(gc).toHaveBeenCalledWith({ type: 'minor', execution: 'sync' });
  });

  it('only counts where gc is not exposed', () => {
    globalThis.gc = undefined;
    expect(() => noteBytesMoved(10 * COLLECT_EVERY_BYTES)).not.toThrow();
  });

  it('passes a stream through unchanged while counting it', async () => {
    const gc = vi.fn();
    globalThis.gc = gc;
    noteBytesMoved(COLLECT_EVERY_BYTES);
    gc.mockClear();
    const got: Buffer[] = [];
    const parts = Array.from({ length: 8 }, (_, i) => Buffer.alloc(COLLECT_EVERY_BYTES / 2, i));
    await pipeline(
      Readable.from(parts),
      countBytesMoved(),
      new Writable({
        write(chunk: Buffer, _encoding, callback) {
          got.push(chunk);
          callback();
        },
      }),
    );
    expect(Buffer.concat(got).equals(Buffer.concat(parts))).toBe(true);
    expect(gc).toHaveBeenCalledTimes(4);
  });

  it('collects fully once after the large transfers that end close together, and the stage notes its own end', async () => {
    const gc = vi.fn();
    globalThis.gc = gc;
    const later = () => new Promise((resolve) => setTimeout(resolve, COLLECT_AFTER_TRANSFER_MS + 50));
    await later(); // what the tests above moved is collected first
    gc.mockClear();
    noteTransferEnded(COLLECT_EVERY_BYTES - 1); // a small one promoted next to nothing
    await later();
    expect(gc).not.toHaveBeenCalled();
    noteTransferEnded(COLLECT_EVERY_BYTES);
    noteTransferEnded(10 * COLLECT_EVERY_BYTES);
    expect(gc).not.toHaveBeenCalled(); // not inside the caller's turn
    await later();
    expect(gc).toHaveBeenCalledTimes(1);
    expect(gc).toHaveBeenCalledWith();
    gc.mockClear();
    await pipeline(Readable.from([Buffer.alloc(COLLECT_EVERY_BYTES)]), countBytesMoved(), new Writable({ write: (_chunk, _encoding, callback) => callback() }));
    await later();
    expect(gc).toHaveBeenCalledWith();
  });
});
