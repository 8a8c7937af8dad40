import { Backoff, KeptConnection, type Logger } from '@desktop-agents/kit';
import { Desktop } from './desktop.js';
import { ERRORS } from './errors.js';

/**
 * The connection to the X display, kept up (the kit's KeptConnection): the spawner starts even when X is not there
 * yet (a pod's containers start in any order), answers 503 meanwhile, and connects again, with backoff, whenever the
 * display goes away.
 */
export class DisplayLink {
  readonly #link: KeptConnection<Desktop>;

  constructor(
    private readonly display: string,
    log: Logger,
  ) {
    this.#link = new KeptConnection<Desktop>({
      name: 'X display',
      connect: () => Desktop.connect(display, log),
      watch: (desktop, lost) => desktop.onDisconnect(() => lost('the X connection closed')),
      disconnect: (desktop) => desktop.disconnect(),
      backoff: new Backoff(200, 5000, false),
      log: log.child({ display }),
    });
  }

  /** Tries once now (so a running X is connected before the port opens), then keeps trying in the background. */
  async start(): Promise<void> {
    await this.#link.start();
  }

  get desktop(): Desktop {
    const desktop = this.#link.current;
    if (!desktop?.connected) throw ERRORS.DISPLAY_UNAVAILABLE(this.display);
    return desktop;
  }

  /** Called with each new connection (the first, and every reconnection). */
  onConnect(listener: (desktop: Desktop) => void): void {
    this.#link.onConnect(listener);
  }

  close(): void {
    void this.#link.close();
  }
}
