import type { BusClient, Logger } from '@desktop-agents/kit';
import type { CupsClient } from './ipp.js';

/**
 * Publishes `printer.available` (true/false) when the queue starts or stops accepting jobs, and again whenever the
 * bus connection is (re)opened, so a bus that restarted learns the current state.
 */
export class PrinterAvailability {
  #available: boolean | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly cups: CupsClient,
    private readonly bus: BusClient,
    private readonly pollMs: number,
    private readonly log: Logger,
  ) {}

  get available(): boolean | undefined {
    return this.#available;
  }

  start(): void {
    this.bus.on('open', () => {
      if (this.#available !== undefined) this.bus.publish('printer.available', this.#available);
    });
    const poll = async () => {
      const now = await this.cups.status().then(
        (s) => s.accepting,
        () => false,
      );
      if (now !== this.#available) {
        this.#available = now;
        this.log.info({ available: now }, 'printer availability changed');
        this.bus.publish('printer.available', now);
      }
    };
    void poll();
    this.#timer = setInterval(() => void poll(), this.pollMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}
