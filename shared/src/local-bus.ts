import { EventEmitter } from 'node:events';

/**
 * What the bus needs of a client's socket: the part of ws's WebSocket it uses, so that an agent in the same process
 * as the bus (`npm run agents`) joins it through an in-process pair instead of a loopback WebSocket.
 */
export interface BusSocket {
  readonly readyState: number;
  readonly bufferedAmount: number;
  send(data: string | Buffer, options?: { binary?: boolean }): void;
  close(code?: number, reason?: string): void;
  terminate(): void;
  on(event: 'message', listener: (data: Buffer, isBinary: boolean) => void): this;
  on(event: 'close', listener: (code: number, reason: Buffer) => void): this;
  on(event: 'error', listener: (err: Error) => void): this;
}

const CONNECTING = 0;
const OPEN = 1;
const CLOSED = 3;

/**
 * One end of an in-process socket pair. Frames are delivered on a later turn (as over a socket), as Buffers, and
 * closing either end closes both with the same code. Nothing is ever buffered unsent: bufferedAmount stays 0.
 */
export class LocalSocket extends EventEmitter implements BusSocket {
  #state = CONNECTING;
  #peer: LocalSocket | undefined;
  readonly bufferedAmount = 0;

  get readyState(): number {
    return this.#state;
  }

  /** Two connected ends: `open` is emitted on both on the next turn. */
  static pair(): [LocalSocket, LocalSocket] {
    const a = new LocalSocket();
    const b = new LocalSocket();
    a.#peer = b;
    b.#peer = a;
    setImmediate(() => {
      for (const end of [a, b]) {
        if (end.#state !== CONNECTING) continue;
        end.#state = OPEN;
        end.emit('open');
      }
    });
    return [a, b];
  }

  send(data: string | Buffer): void {
    if (this.#state !== OPEN) return;
    const peer = this.#peer;
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    setImmediate(() => {
      if (peer && peer.#state === OPEN) peer.emit('message', bytes, false);
    });
  }

  close(code = 1000, reason = ''): void {
    if (this.#state === CLOSED) return;
    this.#state = CLOSED;
    const peer = this.#peer;
    setImmediate(() => {
      this.emit('close', code, Buffer.from(reason));
      if (peer && peer.#state !== CLOSED) {
        peer.#state = CLOSED;
        peer.emit('close', code, Buffer.from(reason));
      }
    });
  }

  terminate(): void {
    this.close(1006, '');
  }
}

/** Joins an in-process socket to the bus; `maxFrameBytes` is the largest frame the client takes. */
type Join = (socket: BusSocket, maxFrameBytes: number) => void;
const buses = new Map<number, Join>();

/** The broadcast agent offers its bus to the agents of its own process, under its port; returns the withdrawal. */
export function offerBusInProcess(port: number, join: Join): () => void {
  buses.set(port, join);
  return () => {
    if (buses.get(port) === join) buses.delete(port);
  };
}

/** A new in-process connection to the bus on that port, when one is offered in this process. */
export function connectInProcess(port: number, maxFrameBytes = Number.POSITIVE_INFINITY): LocalSocket | undefined {
  const join = buses.get(port);
  if (!join) return undefined;
  const [client, server] = LocalSocket.pair();
  join(server, maxFrameBytes);
  return client;
}
