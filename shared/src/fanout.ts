import { Socket } from 'node:net';
import type { WebSocket } from 'ws';

const OPEN = 1;

/** A message framed once for any number of WebSocket clients: its payload, and the server frame that carries it. */
export interface SharedFrame {
  readonly payload: Buffer;
  readonly binary: boolean;
  /** Header and payload in one buffer (RFC 6455 §5.2: FIN set, unmasked as server frames are), never mutated. */
  readonly wire: Buffer;
}

/** Frames a message once: ws would frame it again for every socket it is sent to (websockets/ws#617). */
export function shareFrame(data: string | Buffer, binary = false): SharedFrame {
  const payload = typeof data === 'string' ? Buffer.from(data) : data;
  const length = payload.length;
  const headerBytes = length < 126 ? 2 : length < 65536 ? 4 : 10;
  const wire = Buffer.allocUnsafe(headerBytes + length);
  wire[0] = 0x80 | (binary ? 0x2 : 0x1);
  if (length < 126) wire[1] = length;
  else if (length < 65536) {
    wire[1] = 126;
    wire.writeUInt16BE(length, 2);
  } else {
    wire[1] = 127;
    wire.writeBigUInt64BE(BigInt(length), 2);
  }
  payload.copy(wire, headerBytes);
  return { payload, binary, wire };
}

/**
 * The TCP socket under a ws WebSocket, for writing frames made once. ws keeps it in a private field and has no
 * public way to send a prepared frame; when the field is not a socket (another ws version), frames go through
 * `send` instead, framed per socket as before.
 */
function transportOf(ws: WebSocket): Socket | undefined {
  const socket: unknown = Reflect.get(ws, '_socket');
  return socket instanceof Socket ? socket : undefined;
}

/** What one client has queued this turn. */
export class Outbox {
  #frames: SharedFrame[] = [];

  constructor(
    readonly socket: WebSocket,
    private readonly schedule: (outbox: Outbox) => void,
  ) {}

  /** Frames queued this turn: references to shared frames, written at its end. */
  get queued(): number {
    return this.#frames.length;
  }

  push(frame: SharedFrame): void {
    if (this.socket.readyState !== OPEN) return;
    if (this.#frames.length === 0) this.schedule(this);
    this.#frames.push(frame);
  }

  /** Everything queued in one write (corked: one writev); nothing once the socket is closing. */
  flush(): void {
    const frames = this.#frames;
    this.#frames = [];
    if (frames.length === 0 || this.socket.readyState !== OPEN) return;
    const transport = transportOf(this.socket);
    if (!transport) {
      for (const f of frames) this.socket.send(f.payload, { binary: f.binary });
      return;
    }
    if (transport.destroyed) return;
    transport.cork();
    for (const f of frames) transport.write(f.wire);
    transport.uncork();
  }
}

/**
 * Writes shared frames to many WebSockets, coalesced per socket per event-loop turn: frames queued for one socket
 * while the loop handles this turn's input leave in one writev when it is done, instead of one write each.
 */
export class FanOut {
  readonly #due = new Set<Outbox>();
  #scheduled = false;

  outbox(socket: WebSocket): Outbox {
    return new Outbox(socket, (outbox) => {
      this.#due.add(outbox);
      if (this.#scheduled) return;
      this.#scheduled = true;
      setImmediate(() => this.flush());
    });
  }

  /** Writes what every socket has queued now (also called at the end of each turn). */
  flush(): void {
    this.#scheduled = false;
    const due = [...this.#due];
    this.#due.clear();
    for (const outbox of due) outbox.flush();
  }
}
