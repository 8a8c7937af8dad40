import { EventEmitter } from 'node:events';
import WebSocket from 'ws';
import type { Logger } from 'pino';
import { Backoff } from './backoff.js';
import { KeptConnection } from './kept-connection.js';
import { REPLY_METHOD, type AgentEvents, type ServiceEvents } from './bus-methods.js';
import { busUrl, type CommonConfig } from './config.js';
import { connectInProcess, type LocalSocket } from './local-bus.js';

/**
 * The largest frame a local client takes, told to the bus when it connects: the bus sends it nothing larger (a
 * browser's large `hello` or a desktop copy would otherwise close it with 1009, and it would miss events while it
 * reconnects).
 */
export const BUS_ACCEPT_HEADER = 'x-bus-max-frame-bytes';

/** A frame on the desktop bus. Extra fields are allowed and relayed (the browser's `hello` carries `user`). */
export interface BusMessage<D = unknown> {
  method: string;
  data?: D;
  [extra: string]: unknown;
}

export interface BusClientOptions {
  url: string;
  logger: Logger;
  /** Sent as the `broadcast_cookie` header: marks this client as a local agent. */
  cookie?: string;
  /** Sent as `Authorization: Bearer`. */
  token?: string;
  /** First reconnect delay; doubles up to maxDelayMs, with jitter. */
  minDelayMs?: number;
  maxDelayMs?: number;
  /** Messages kept while disconnected; the oldest are dropped past it. */
  maxQueue?: number;
  maxPayload?: number;
  /** Opens an in-process connection instead of a WebSocket to url (the bus in the same process), when it can. */
  inProcess?: (maxFrameBytes: number) => LocalSocket | undefined;
}

type Handler = (message: BusMessage) => void;

interface BusEvents {
  open: [];
  close: [code: number, reason: string];
  message: [message: BusMessage];
}

/**
 * A long-lived connection to the broadcast agent: publish() never throws and never blocks; messages published while
 * disconnected are queued (bounded) and flushed on reconnect; reconnects back off exponentially.
 */
export class BusClient extends EventEmitter<BusEvents> {
  readonly #link: KeptConnection<WebSocket | LocalSocket>;
  /** The socket of the attempt under way (ended by close(): nothing may keep the process up). */
  #attempt: WebSocket | LocalSocket | undefined;
  /** The socket frames go to: set the moment it opens (before the kept connection hears of it), cleared as it closes. */
  #socket: WebSocket | LocalSocket | undefined;
  readonly #queue: string[] = [];
  readonly #handlers = new Map<string, Set<Handler>>();
  readonly #options: Required<Omit<BusClientOptions, 'cookie' | 'token' | 'inProcess'>> & Pick<BusClientOptions, 'cookie' | 'token' | 'inProcess'>;

  constructor(options: BusClientOptions) {
    super();
    this.#options = { minDelayMs: 200, maxDelayMs: 10_000, maxQueue: 1000, maxPayload: 64 * 1024, ...options };
    this.#link = new KeptConnection<WebSocket | LocalSocket>({
      name: 'bus',
      connect: () => this.#open(),
      watch: (socket, lost) => socket.once('close', (code: number) => lost(`closed ${code}`)),
      disconnect: (socket) => closeSocket(socket),
      backoff: new Backoff(this.#options.minDelayMs, this.#options.maxDelayMs),
      // an agent started before the bus (any container order) retries quietly
      log: this.#options.logger,
      attemptsLevel: 'debug',
    });
  }

  get connected(): boolean {
    return this.#socket?.readyState === WebSocket.OPEN;
  }

  get queued(): number {
    return this.#queue.length;
  }

  /** Starts connecting, and keeps the connection up until close(). */
  connect(): this {
    void this.#link.start();
    return this;
  }

  /** Resolves at the next successful connection (now, if connected). */
  waitOpen(): Promise<void> {
    return this.connected ? Promise.resolve() : new Promise((resolve) => this.once('open', () => resolve()));
  }

  /** An agent event (typed: see AgentEvents), or an event for the pod's local services only (ServiceEvents). */
  publish<M extends keyof (AgentEvents & ServiceEvents)>(method: M, data: (AgentEvents & ServiceEvents)[M]): void {
    this.send(method, data);
  }

  /** Any frame, for methods outside the agent events (a test's `hello`, a counter request). */
  send<D>(method: string, data?: D): void {
    const frame = JSON.stringify(data === undefined ? { method } : { method, data });
    if (this.connected) {
      this.#socket?.send(frame);
      return;
    }
    this.#queue.push(frame);
    if (this.#queue.length > this.#options.maxQueue) this.#queue.shift();
  }

  /** An error frame for one browser only: the sender of the request being refused (its `sender` stamp). */
  replyTo(sender: number, data: { code: string; message: string; method?: string }): void {
    const frame = JSON.stringify({ method: REPLY_METHOD, to: sender, data });
    if (this.connected) this.#socket?.send(frame);
  }

  /** Calls handler for every frame with this method. Returns a function that removes it. */
  subscribe(method: string, handler: Handler): () => void {
    const set = this.#handlers.get(method) ?? new Set<Handler>();
    set.add(handler);
    this.#handlers.set(method, set);
    return () => set.delete(handler);
  }

  async close(): Promise<void> {
    const attempt = this.#attempt;
    this.#attempt = undefined;
    await Promise.all([this.#link.close(), attempt ? closeSocket(attempt) : undefined]);
  }

  /** One connection attempt: resolves once the socket is open (the queue flushed), rejects if it closes first. */
  #open(): Promise<WebSocket | LocalSocket> {
    const headers: Record<string, string> = {};
    if (this.#options.cookie) headers['broadcast_cookie'] = this.#options.cookie;
    if (this.#options.token) headers['authorization'] = `Bearer ${this.#options.token}`;
    headers[BUS_ACCEPT_HEADER] = String(this.#options.maxPayload);
    const socket = this.#options.inProcess?.(this.#options.maxPayload) ?? new WebSocket(this.#options.url, { headers, maxPayload: this.#options.maxPayload });
    socket.on('message', (raw: WebSocket.RawData, isBinary: boolean) => this.#dispatch(raw, isBinary));
    socket.on('error', (err: Error) => this.#options.logger.debug({ err: { message: err.message } }, 'bus socket error'));
    socket.on('close', (code: number, reason: Buffer) => {
      if (this.#socket === socket) this.#socket = undefined;
      this.emit('close', code, reason.toString());
    });
    this.#attempt = socket;
    return new Promise((resolve, reject) => {
      const failed = (code: number) => {
        if (this.#attempt === socket) this.#attempt = undefined;
        reject(new Error(`closed ${code} before it opened`));
      };
      socket.once('close', failed);
      socket.once('open', () => {
        if (this.#attempt === socket) this.#attempt = undefined;
        socket.off('close', failed);
        // usable now: what 'open' listeners publish goes out at once, not into the queue
        this.#socket = socket;
        this.#options.logger.debug({ url: this.#options.url }, 'bus connected');
        for (const frame of this.#queue.splice(0)) socket.send(frame);
        resolve(socket);
        this.emit('open');
      });
    });
  }

  #dispatch(raw: WebSocket.RawData, isBinary: boolean): void {
    let message: BusMessage;
    try {
      const text = Array.isArray(raw) ? Buffer.concat(raw).toString() : Buffer.from(raw as ArrayBuffer).toString();
      const parsed: unknown = JSON.parse(text);
      if (parsed === null || typeof parsed !== 'object' || typeof (parsed as BusMessage).method !== 'string') return;
      message = parsed as BusMessage;
    } catch {
      this.#options.logger.debug({ isBinary }, 'bus frame is not JSON');
      return;
    }
    this.emit('message', message);
    for (const handler of this.#handlers.get(message.method) ?? []) handler(message);
  }
}

/**
 * The agent's connection to the pod's bus, as every publishing agent makes it: its cookie and its token; in-process
 * when the broadcast agent runs in the same process on the configured port (and no other bus URL is set).
 */
export function connectBus(config: CommonConfig, logger: Logger, options: { maxPayload?: number } = {}): BusClient {
  return new BusClient({
    ...options,
    url: busUrl(config),
    logger: logger.child({ component: 'bus' }),
    cookie: config.BROADCAST_COOKIE,
    token: config.AUTH_TOKEN,
    ...(config.BROADCAST_SERVICE_URL ? {} : { inProcess: (maxFrameBytes: number) => connectInProcess(config.BROADCAST_SERVICE_TCP_PORT, maxFrameBytes) }),
  }).connect();
}

/** Closes a socket and resolves once it is closed (at once when it never opened). */
async function closeSocket(socket: WebSocket | LocalSocket): Promise<void> {
  if (socket.readyState === WebSocket.CLOSED) return;
  await new Promise<void>((resolve) => {
    socket.once('close', () => resolve());
    if (socket.readyState === WebSocket.CONNECTING) socket.terminate();
    else socket.close(1000, 'client closing');
  });
}
