import type { Backoff } from './backoff.js';
import type { Logger } from './logger.js';

export interface KeptConnectionOptions<C> {
  /** What is connected to, for the logs and the readiness reason ("X display :0", "PulseAudio"). */
  name: string;
  /** One attempt: resolves the connection, ready for use, or throws why it is not available (cleaning up after itself). */
  connect(): Promise<C>;
  /** Calls `lost` (once is enough; later calls are ignored) when this connection goes away. */
  watch(connection: C, lost: (reason: string) => void): void;
  /** Ends a connection: at close(), or one that completed after close() was called. */
  disconnect(connection: C): void | Promise<void>;
  /** Delays between attempts (reset after a success). */
  backoff: Backoff;
  log: Logger;
  /** The level of each failed attempt's line (info; debug for a connection that is expected to come later). */
  attemptsLevel?: 'info' | 'debug';
}

type Listener<C> = (connection: C) => void;

/**
 * A connection kept up: tried once at start (so a server already there is connected before the agent serves), then
 * again with backoff whenever it fails or goes away, until close(). It knows why there is no connection (the
 * readiness reason) and tells listeners of each new connection. Used for the X display, the session D-Bus, PulseAudio
 * and the bus.
 */
export class KeptConnection<C> {
  #current: C | undefined;
  #reason: string | undefined = 'not connected yet';
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  readonly #connected = new Set<Listener<C>>();
  readonly #lost = new Set<(reason: string) => void>();

  constructor(private readonly options: KeptConnectionOptions<C>) {}

  /** Tries once now; on failure, keeps trying in the background. Resolves after the first attempt either way. */
  async start(): Promise<void> {
    await this.#attempt();
  }

  /** The connection, when there is one now. */
  get current(): C | undefined {
    return this.#current;
  }

  /** Why there is no connection now (undefined while connected): what a readiness probe reports. */
  get reason(): string | undefined {
    return this.#current === undefined ? (this.#reason ?? 'not connected') : undefined;
  }

  /** Called with each new connection (and now, with the current one). */
  onConnect(listener: Listener<C>): void {
    this.#connected.add(listener);
    if (this.#current !== undefined) listener(this.#current);
  }

  /** Called with the reason each time the connection goes away. */
  onLost(listener: (reason: string) => void): void {
    this.#lost.add(listener);
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    const current = this.#current;
    this.#current = undefined;
    this.#reason = 'closed';
    if (current !== undefined) await this.options.disconnect(current);
  }

  async #attempt(): Promise<void> {
    if (this.#closed) return;
    const { name, log } = this.options;
    let connection: C;
    try {
      connection = await this.options.connect();
    } catch (err) {
      this.#reason = `${name} not available: ${(err as Error).message}`;
      log[this.options.attemptsLevel ?? 'info']({ err: { message: (err as Error).message } }, `${name} not available`);
      this.#retry();
      return;
    }
    if (this.#closed) {
      await this.options.disconnect(connection);
      return;
    }
    this.#current = connection;
    this.#reason = undefined;
    this.options.backoff.reset();
    this.options.watch(connection, (reason) => {
      if (this.#current !== connection) return;
      this.#current = undefined;
      this.#reason = `${name} lost: ${reason}`;
      log.warn({ reason }, `${name} lost`);
      for (const listener of this.#lost) listener(reason);
      this.#retry();
    });
    log[this.options.attemptsLevel ?? 'info'](`${name} connected`);
    for (const listener of this.#connected) listener(connection);
  }

  #retry(): void {
    if (this.#closed) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.#attempt(), this.options.backoff.next());
    this.#timer.unref();
  }
}
