import WebSocket from 'ws';
import {
  FanOut,
  frameCostProblem,
  LocalSocket,
  secretStripper,
  shareFrame,
  type BusMessage,
  type BusSocket,
  type FrameCostLimits,
  type Logger,
  type Outbox,
  type SecretStripper,
  type SharedFrame,
} from '@desktop-agents/kit';
import {
  counterFrame,
  forbiddenMethodFrame,
  keepaliveFrame,
  MAX_RELAY_DEPTH,
  BROWSER_ONLY_METHODS,
  LOCAL_ONLY_METHODS,
  noRecipientFrame,
  parseFrame,
  routeOf,
} from './messages.js';

export interface BusSettings {
  keepaliveMs: number;
  /** How often clients over the send bound are checked against stallTimeoutMs. */
  stallCheckMs: number;
  /** Unsent bytes to one client above which frames to it are shed. */
  maxBufferedBytes: number;
  /** A client over maxBufferedBytes for this long is disconnected. */
  stallTimeoutMs: number;
  /** The pod's own secrets (AUTH_TOKEN, BROADCAST_COOKIE): stripped from relayed frames wherever they appear. */
  secrets: ReadonlyArray<string | undefined>;
  /** A frame's structure, checked before it is parsed; over it the client is closed with 1009 and the reason. */
  cost: FrameCostLimits;
}

interface Client {
  id: number;
  /** A WebSocket, or the in-process end of an agent of this process. */
  socket: BusSocket;
  /** A WebSocket's frames of this turn, written together; none for an in-process end. */
  outbox: Outbox | undefined;
  /** Another agent of the pod (cookie, or the pod's address in abcdesktop mode): not counted as a browser. */
  local: boolean;
  /** Last time it connected or sent a frame: picks the unicast target. */
  lastActive: number;
  /** Since when its unsent bytes have been over the bound, if they are. */
  overSince: number | undefined;
  shed: number;
  /** The largest frame it takes (a local agent says so when it connects): larger ones are not sent to it. */
  maxFrameBytes: number;
  /** Frames not sent to it for being larger. */
  tooLarge: number;
  log: Logger;
}

export interface BusStats {
  browsers: number;
  locals: number;
  /** Frames not sent to a slow client, since start. */
  shed: number;
  /** Clients disconnected for staying over the send bound. */
  dropped: number;
}

/**
 * Every client of the desktop bus and the rules between them: which frames are relayed to all, which to one
 * browser, the browser counter, keepalive, and the per-client send bound (see README: backpressure).
 */
export class Bus {
  readonly #clients = new Set<Client>();
  readonly #timers: NodeJS.Timeout[] = [];
  readonly #fanOut = new FanOut();
  #nextId = 1;
  /**
   * Relayed frames lose their credentials at any depth, by the kit's name rule and by value: the browser's `hello`
   * carries the user's JWT, which the original relayed to every client; what is nested past MAX_RELAY_DEPTH is dropped.
   */
  readonly #credentials: SecretStripper;
  #closing = false;
  #shed = 0;
  #dropped = 0;

  constructor(
    private readonly settings: BusSettings,
    private readonly log: Logger,
  ) {
    this.#credentials = secretStripper(settings.secrets, MAX_RELAY_DEPTH);
    this.#timers.push(setInterval(() => this.#keepalive(), settings.keepaliveMs));
    this.#timers.push(setInterval(() => this.#dropStalled(), settings.stallCheckMs));
    for (const t of this.#timers) t.unref();
    this.#keepalive();
  }

  get accepting(): boolean {
    return !this.#closing;
  }

  stats(): BusStats {
    let browsers = 0;
    for (const c of this.#clients) if (!c.local && c.socket.readyState === WebSocket.OPEN) browsers += 1;
    return { browsers, locals: this.#clients.size - browsers, shed: this.#shed, dropped: this.#dropped };
  }

  /** Takes an authenticated socket; its handlers are attached before any frame can arrive. */
  join(socket: BusSocket, local: boolean, maxFrameBytes = Number.POSITIVE_INFINITY): void {
    if (this.#closing) {
      socket.close(1001, 'server shutting down');
      return;
    }
    const id = this.#nextId++;
    const outbox = socket instanceof WebSocket ? this.#fanOut.outbox(socket) : undefined;
    const client: Client = {
      id,
      socket,
      outbox,
      local,
      lastActive: Date.now(),
      overSince: undefined,
      shed: 0,
      maxFrameBytes,
      tooLarge: 0,
      log: this.log.child({ client: id, local }),
    };
    this.#clients.add(client);
    socket.on('message', (data, isBinary) => this.#onFrame(client, data, isBinary));
    socket.on('error', (err) => client.log.info({ err: { message: err.message } }, 'client socket error'));
    socket.on('close', (code) => {
      this.#clients.delete(client);
      client.log.info({ code, shed: client.shed, tooLarge: client.tooLarge }, 'client left');
      if (!local && !this.#closing) this.#sendCounter();
    });
    client.log.info('client joined');
    if (!local) this.#sendCounter();
  }

  /** Stops the timers and refuses new clients; the kit's WebSocket server closes the open ones with 1001. */
  close(): void {
    this.#closing = true;
    for (const t of this.#timers) clearInterval(t);
    // the agents of this process; WebSocket clients are closed by the kit's server
    for (const c of this.#clients) if (c.socket instanceof LocalSocket) c.socket.close(1001, 'server shutting down');
  }

  #onFrame(client: Client, data: WebSocket.RawData, isBinary: boolean): void {
    const text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data as Buffer).toString('utf8');
    const costly = frameCostProblem(text, this.settings.cost);
    if (costly) {
      client.log.info({ reason: costly, bytes: text.length }, 'costly frame, closing client');
      client.socket.close(1009, costly);
      return;
    }
    const parsed = parseFrame(text);
    if (!parsed.ok) {
      client.log.info({ reason: parsed.reason, isBinary }, 'bad frame, closing client');
      client.socket.close(1003, parsed.reason);
      return;
    }
    client.lastActive = Date.now();
    const { message } = parsed;
    if (!client.local && LOCAL_ONLY_METHODS.has(message.method)) {
      // a browser (or a page with its token) must not forge what the agents report: printer.new, window.list...
      client.log.info({ method: message.method }, 'agent event from a browser refused');
      this.#send(client, shareFrame(forbiddenMethodFrame(message.method)));
      return;
    }
    if (client.local && BROWSER_ONLY_METHODS.has(message.method)) {
      // an agent must not pose as the user acting on the page
      client.log.info({ method: message.method }, 'browser request from a local service refused');
      this.#send(client, shareFrame(forbiddenMethodFrame(message.method, 'browser')));
      return;
    }
    switch (routeOf(message.method)) {
      case 'broadcast':
        this.#sendToAll(shareFrame(JSON.stringify(this.#credentials.strip(message))));
        break;
      case 'unicast':
        this.#unicast(client, message.method, shareFrame(JSON.stringify(this.#credentials.strip(message))));
        break;
      case 'counter':
        this.#sendCounter();
        break;
      case 'to-agents': {
        const frame = shareFrame(JSON.stringify({ ...this.#credentials.strip(message), sender: client.id }));
        for (const c of this.#clients) if (c.local) this.#send(c, frame);
        break;
      }
      case 'to-services': {
        // only local senders get here (LOCAL_ONLY_METHODS); the other local services hear it, no browser does
        const frame = shareFrame(JSON.stringify(this.#credentials.strip(message)));
        for (const c of this.#clients) if (c.local && c !== client) this.#send(c, frame);
        break;
      }
      case 'reply':
        if (client.local) this.#reply(message);
        break;
      case 'ignored':
        client.log.debug({ method: message.method }, 'unknown method ignored');
        break;
    }
  }

  /** The most recently active open browser client other than the sender; the sender hears of it when there is none. */
  #unicast(sender: Client, method: string, frame: SharedFrame): void {
    let target: Client | undefined;
    for (const c of this.#clients) {
      if (c === sender || c.local || c.socket.readyState !== WebSocket.OPEN) continue;
      if (!target || c.lastActive >= target.lastActive) target = c;
    }
    if (target) this.#send(target, frame);
    else {
      sender.log.info({ method }, 'unicast frame has no recipient');
      this.#send(sender, shareFrame(noRecipientFrame(method)));
    }
  }

  /** An agent's answer to one browser's request: `to` names the sender the bus stamped on it. */
  #reply(message: BusMessage): void {
    const to = message['to'];
    const target = typeof to === 'number' ? [...this.#clients].find((c) => c.id === to && !c.local) : undefined;
    if (target) this.#send(target, shareFrame(JSON.stringify({ method: message.method, data: this.#credentials.strip(message.data) })));
  }

  #sendCounter(): void {
    this.#sendToAll(shareFrame(counterFrame(this.stats().browsers)));
  }

  #keepalive(): void {
    this.#sendToAll(shareFrame(keepaliveFrame()));
  }

  /** Framed once for all; each client's frames of this turn leave in one write at its end. */
  #sendToAll(frame: SharedFrame): void {
    for (const c of this.#clients) this.#send(c, frame);
  }

  /**
   * Backpressure policy: a frame to a client whose unsent bytes exceed maxBufferedBytes is shed (not queued), and a
   * client that stays over the bound for stallTimeoutMs is terminated. Other clients never wait for it.
   */
  #send(client: Client, frame: SharedFrame): void {
    const { socket, outbox } = client;
    if (socket.readyState !== WebSocket.OPEN) return;
    if (frame.payload.length > client.maxFrameBytes) {
      // what this client cannot take is not sent (it would close it with 1009); it keeps everything else
      if (client.tooLarge++ === 0)
        client.log.info({ bytes: frame.payload.length, maxFrameBytes: client.maxFrameBytes }, 'frames larger than the client takes are not sent to it');
      return;
    }
    // frames queued this turn are shared buffers, not copies: the bound is on what the socket holds unsent
    if (socket.bufferedAmount > this.settings.maxBufferedBytes) {
      const now = Date.now();
      client.overSince ??= now;
      client.shed += 1;
      this.#shed += 1;
      if (now - client.overSince >= this.settings.stallTimeoutMs) this.#drop(client);
      return;
    }
    client.overSince = undefined;
    if (outbox) outbox.push(frame);
    else socket.send(frame.payload, { binary: false });
  }

  #drop(client: Client): void {
    this.#dropped += 1;
    client.log.warn({ shed: client.shed, bufferedAmount: client.socket.bufferedAmount }, 'client not reading, disconnected');
    client.socket.terminate();
  }

  /** Clients that stay over the send bound are dropped even when nothing is sent to them (the kit pings them). */
  #dropStalled(): void {
    const now = Date.now();
    for (const c of this.#clients) {
      if (c.overSince !== undefined && now - c.overSince >= this.settings.stallTimeoutMs) this.#drop(c);
    }
  }
}
