import { Backoff, type Logger } from '@desktop-agents/kit';
import { Desktop } from './desktop.js';
import { ERRORS } from './errors.js';

/**
 * The connection to the X display, kept up: the spawner starts even when X is not there yet (a pod's containers
 * start in any order), answers 503 meanwhile, and connects again, with backoff, whenever the display goes away.
 */
export class DisplayLink {
  #desktop: Desktop | undefined;
  #timer: NodeJS.Timeout | undefined;
  readonly #backoff = new Backoff(200, 5000, false);
  #closed = false;
  readonly #listeners = new Set<(desktop: Desktop) => void>();

  constructor(
    private readonly display: string,
    private readonly log: Logger,
  ) {}

  /** Tries once now (so a running X is connected before the port opens), then keeps trying in the background. */
  async start(): Promise<void> {
    await this.#connect();
  }

  get desktop(): Desktop {
    if (!this.#desktop?.connected) throw ERRORS.DISPLAY_UNAVAILABLE(this.display);
    return this.#desktop;
  }

  /** Called with each new connection (the first, and every reconnection). */
  onConnect(listener: (desktop: Desktop) => void): void {
    this.#listeners.add(listener);
    if (this.#desktop?.connected) listener(this.#desktop);
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#desktop?.disconnect();
  }

  async #connect(): Promise<void> {
    if (this.#closed) return;
    try {
      const desktop = await Desktop.connect(this.display, this.log);
      this.#desktop = desktop;
      this.#backoff.reset();
      desktop.onDisconnect(() => {
        if (this.#desktop === desktop) this.#desktop = undefined;
        this.#retry();
      });
      this.log.info({ display: this.display }, 'X display connected');
      for (const listener of this.#listeners) listener(desktop);
    } catch (err) {
      this.log.info({ display: this.display, err: { message: (err as Error).message } }, 'X display not available');
      this.#retry();
    }
  }

  #retry(): void {
    if (this.#closed) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.#connect(), this.#backoff.next());
    this.#timer.unref();
  }
}
