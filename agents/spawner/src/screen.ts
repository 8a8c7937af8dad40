import { ValidationError, type BusClient, type Logger } from '@desktop-agents/kit';
import type { Desktop } from './desktop.js';
import type { DisplayLink } from './display.js';
import { ERRORS } from './errors.js';
import { Randr, RandrRefusal, type Monitor, type ScreenLayout } from './randr.js';

export interface ScreenLimits {
  /** SPAWNER_DISPLAY_MAX: the largest screen (and monitors' bounding box) a client may ask for. */
  maxWidth: number;
  maxHeight: number;
  /** How long display.fit waits for the page's size to settle before resizing. */
  fitDebounceMs: number;
}

const MONITOR_NAME = /^[A-Za-z0-9_.-]{1,32}$/;
/** RANDR events come in bursts (screen, CRTC, output): one layout is read and published after them. */
const CHANGE_SETTLE_MS = 50;

const overlaps = (a: Monitor, b: Monitor) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

/**
 * The desktop's screen through RANDR: its layout, its size, a layout of several monitors, `display.changed` on the
 * bus after every change (ours or another client's), and `display.fit` from a page (debounced). No HTTP here: the
 * routes validate the shape, this checks the limits and asks the X server.
 */
export class ScreenControl {
  #randr: { desktop: Desktop; randr: Promise<Randr> } | undefined;
  #unwatch: (() => void) | undefined;
  #settle: NodeJS.Timeout | undefined;
  #fit: NodeJS.Timeout | undefined;
  #published = '';
  #closed = false;

  constructor(
    private readonly display: DisplayLink,
    private readonly bus: Pick<BusClient, 'publish' | 'subscribe' | 'replyTo'>,
    private readonly limits: ScreenLimits,
    private readonly log: Logger,
  ) {
    display.onConnect((desktop) => {
      this.#open(desktop)
        .then((randr) => {
          this.#unwatch?.();
          this.#unwatch = randr.watch(() => this.#changed(true));
          // what is there now is what later changes are told against, not a change itself
          this.#changed(false);
        })
        .catch((err: Error) => this.log.info({ reason: err.message }, 'display changes are not available'));
    });
  }

  async layout(): Promise<ScreenLayout> {
    return (await this.#current()).layout();
  }

  /** Validated against the limits (422), then asked of the X server (409 when it cannot). */
  async setSize(width: number, height: number): Promise<ScreenLayout> {
    const issues = [
      width > this.limits.maxWidth && { location: 'body' as const, param: 'width', value: width, msg: `Width must be at most ${this.limits.maxWidth}` },
      height > this.limits.maxHeight && { location: 'body' as const, param: 'height', value: height, msg: `Height must be at most ${this.limits.maxHeight}` },
    ].filter((issue) => issue !== false);
    if (issues.length > 0) throw new ValidationError(issues);
    const randr = await this.#current();
    await this.#refusedAs409(randr.setSize(width, height));
    return randr.layout();
  }

  /** `received` as the request had it (a refusal quotes it so); a monitor without `primary` is not primary. */
  async setMonitors(received: Array<Omit<Monitor, 'primary'> & { primary?: boolean }>): Promise<ScreenLayout> {
    const issue = (msg: string) => new ValidationError([{ location: 'body', param: 'monitors', value: received, msg }]);
    const monitors = received.map((m) => ({ ...m, primary: m.primary ?? false }));
    const names = new Set(monitors.map((m) => m.name));
    if (monitors.some((m) => !MONITOR_NAME.test(m.name))) throw issue('Monitor names must be 1 to 32 letters, digits, _ . or -');
    if (names.size !== monitors.length) throw issue('Monitor names must be unique');
    if (monitors.filter((m) => m.primary).length > 1) throw issue('At most one monitor can be primary');
    if (monitors.some((a, i) => monitors.slice(i + 1).some((b) => overlaps(a, b)))) throw issue('Monitors must not overlap');
    const width = Math.max(...monitors.map((m) => m.x + m.width));
    const height = Math.max(...monitors.map((m) => m.y + m.height));
    if (width > this.limits.maxWidth || height > this.limits.maxHeight) {
      throw issue(`Monitors must fit in ${this.limits.maxWidth}x${this.limits.maxHeight}`);
    }
    const randr = await this.#current();
    // with none marked primary, the first one is
    const primary = monitors.some((m) => m.primary) ? monitors : monitors.map((m, i) => ({ ...m, primary: i === 0 }));
    await this.#refusedAs409(randr.setMonitors(primary));
    // the X server sends no RANDR event for monitors alone (the screen may keep its size): told here
    this.#changed(true);
    return randr.layout();
  }

  /** `display.fit { width, height }` from a page: the last size of a burst is applied; a refusal goes to its sender. */
  acceptFit(): void {
    this.bus.subscribe('display.fit', (message) => {
      const sender = message['sender'];
      const data = message.data as { width?: unknown; height?: unknown } | null;
      const refuse = (reason: string) => {
        this.log.info({ reason }, 'display.fit refused');
        if (typeof sender === 'number') this.bus.replyTo(sender, { code: 'DISPLAY_FIT_REFUSED', method: 'display.fit', message: reason });
      };
      const { width, height } = data ?? {};
      if (!Number.isInteger(width) || !Number.isInteger(height) || (width as number) < 1 || (height as number) < 1) {
        refuse('display.fit needs { width, height } in whole pixels');
        return;
      }
      clearTimeout(this.#fit);
      this.#fit = setTimeout(() => {
        this.setSize(width as number, height as number).catch((err: Error) => refuse(err.message));
      }, this.limits.fitDebounceMs);
      this.#fit.unref();
    });
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#settle);
    clearTimeout(this.#fit);
    this.#unwatch?.();
  }

  /** RANDR on the display's current connection, opened once per connection. */
  #open(desktop: Desktop): Promise<Randr> {
    if (this.#randr?.desktop !== desktop) {
      const randr = Randr.open(desktop.x.client, desktop.root);
      this.#randr = { desktop, randr };
      randr.catch(() => undefined);
    }
    return this.#randr.randr;
  }

  async #current(): Promise<Randr> {
    return this.#refusedAs409(this.#open(this.display.desktop));
  }

  async #refusedAs409<T>(pending: Promise<T>): Promise<T> {
    try {
      return await pending;
    } catch (err) {
      if (err instanceof RandrRefusal) throw ERRORS.DISPLAY_CHANGE_REFUSED(err.message);
      throw err;
    }
  }

  #changed(publish: boolean): void {
    clearTimeout(this.#settle);
    this.#settle = setTimeout(() => {
      if (this.#closed) return;
      this.layout()
        .then((layout) => {
          const text = JSON.stringify(layout);
          if (text === this.#published) return;
          this.#published = text;
          if (publish) this.bus.publish('display.changed', layout);
        })
        .catch((err: Error) => this.log.debug({ reason: err.message }, 'display layout not read'));
    }, CHANGE_SETTLE_MS);
    this.#settle.unref();
  }
}
