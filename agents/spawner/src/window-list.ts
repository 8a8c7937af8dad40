import type { BusClient, Logger } from '@desktop-agents/kit';
import type { WindowInfo } from './desktop.js';
import type { DisplayLink } from './display.js';

/**
 * Publishes `window.list` on the bus when the windows change: on the window manager's _NET_CLIENT_LIST updates
 * (debounced), on its SIGUSR1 (a window opened: now) and SIGUSR2 (closed: after a second), on request, and again
 * whenever the bus connection opens, so a tab that connects later gets the current state.
 */
export class WindowListPublisher {
  #timer: NodeJS.Timeout | undefined;
  #last = '';

  constructor(
    private readonly display: DisplayLink,
    private readonly bus: Pick<BusClient, 'publish' | 'on'>,
    private readonly log: Logger,
    private readonly debounceMs = 50,
  ) {
    display.onConnect((desktop) => {
      desktop.onClientListChange(() => this.schedule(this.debounceMs));
      this.schedule(0, true);
    });
    bus.on('open', () => void this.publish(true));
  }

  /** Publishes after delayMs; forced (even if unchanged) when the window manager signalled a change. */
  schedule(delayMs: number, force = false): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.publish(force), delayMs);
  }

  /** Publishes the current list (unchanged lists are not repeated unless forced). */
  async publish(force: boolean): Promise<WindowInfo[]> {
    clearTimeout(this.#timer);
    try {
      const windows = await this.display.desktop.windows();
      const text = JSON.stringify(windows);
      if (force || text !== this.#last) {
        this.#last = text;
        this.bus.publish('window.list', windows);
      }
      return windows;
    } catch (err) {
      this.log.warn({ err: { message: (err as Error).message } }, 'cannot read the window list');
      return [];
    }
  }

  stop(): void {
    clearTimeout(this.#timer);
  }
}
