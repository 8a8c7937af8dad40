import type { WebSocket } from 'ws';
import { FanOut, shareFrame, type Logger, type Outbox } from '@desktop-agents/kit';

export interface StreamFormat {
  format: 's16le';
  rate: number;
  channels: number;
}

interface Listener {
  socket: WebSocket;
  outbox: Outbox;
  dropped: number;
}

export class TooManyListeners extends Error {}

/**
 * Browsers hearing the desktop: each gets a JSON text frame describing the PCM, then binary frames of raw samples.
 * A listener whose socket holds more than maxBufferedBytes unsent gets no new chunks until it catches up (old
 * audio is dropped rather than delayed), so a slow client never accumulates latency or server memory.
 */
export class AudioListeners {
  readonly #listeners = new Set<Listener>();
  readonly #fanOut = new FanOut();
  #dropped = 0;

  constructor(
    private readonly format: StreamFormat,
    private readonly maxBufferedBytes: number,
    private readonly maxListeners: number,
    private readonly log: Logger,
  ) {}

  get count(): number {
    return this.#listeners.size;
  }

  get dropped(): number {
    return this.#dropped;
  }

  add(socket: WebSocket): void {
    if (this.#listeners.size >= this.maxListeners) {
      socket.close(1013, 'too many listeners');
      return;
    }
    const listener: Listener = { socket, outbox: this.#fanOut.outbox(socket), dropped: 0 };
    this.#listeners.add(listener);
    socket.send(JSON.stringify({ type: 'format', ...this.format }));
    // listeners only listen: anything they send is ignored
    socket.on('message', () => undefined);
    socket.on('close', () => {
      this.#listeners.delete(listener);
      this.log.info({ dropped: listener.dropped }, 'listener left');
    });
    this.log.info({ listeners: this.#listeners.size }, 'listener joined');
  }

  /** One chunk to every listener, framed once. */
  push(chunk: Buffer): void {
    if (this.#listeners.size === 0) return;
    const frame = shareFrame(chunk, true);
    for (const l of this.#listeners) {
      if (l.socket.readyState !== l.socket.OPEN) continue;
      if (l.socket.bufferedAmount > this.maxBufferedBytes) {
        l.dropped += chunk.length;
        this.#dropped += chunk.length;
        continue;
      }
      l.outbox.push(frame);
    }
  }
}
