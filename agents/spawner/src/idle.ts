import type { BusClient, Logger } from '@desktop-agents/kit';
import type { DisplayLink } from './display.js';

/** While idle, how often the X server is asked whether input came back. */
const IDLE_POLL_MS = 1000;
/** How long to wait after the display could not be asked. */
const RETRY_MS = 5000;

export interface IdleNow {
  idleMs: number;
  /** ms since the epoch, as a string (as the bus's other dates). */
  lastInput: string;
}

/**
 * Idle detection from the X server's own input idle time (MIT-SCREEN-SAVER): `desktop.idle` { idle: true } once no
 * input arrived for thresholdMs, { idle: false } at the next input. It asks the server only when the answer can have
 * changed: at the moment the desktop would become idle, then every second while it is. thresholdMs 0: never runs.
 */
export class IdleWatch {
  #idle = false;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(
    private readonly display: DisplayLink,
    private readonly thresholdMs: number,
    private readonly bus: Pick<BusClient, 'publish'>,
    private readonly log: Logger,
  ) {}

  /** The idle time now (throws while the display is unavailable). */
  async now(): Promise<IdleNow> {
    const idleMs = await this.display.desktop.idleMs();
    return { idleMs, lastInput: String(Date.now() - idleMs) };
  }

  start(): void {
    if (this.thresholdMs > 0) this.#schedule(0);
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.#check(), ms);
    this.#timer.unref();
  }

  async #check(): Promise<void> {
    let idleMs: number;
    try {
      idleMs = await this.display.desktop.idleMs();
    } catch (err) {
      this.log.debug({ err: { message: (err as Error).message } }, 'idle time not available');
      return this.#schedule(RETRY_MS);
    }
    if (!this.#idle && idleMs >= this.thresholdMs) {
      this.#idle = true;
      this.log.info({ idleMs }, 'desktop idle');
      this.bus.publish('desktop.idle', { idle: true, idleMs });
    } else if (this.#idle && idleMs < this.thresholdMs) {
      this.#idle = false;
      this.log.info({ idleMs }, 'desktop active again');
      this.bus.publish('desktop.idle', { idle: false });
    }
    this.#schedule(this.#idle ? IDLE_POLL_MS : Math.max(100, this.thresholdMs - idleMs));
  }
}
