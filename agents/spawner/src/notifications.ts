import type { BusClient, Logger } from '@desktop-agents/kit';

/** Why a notification closed, as org.freedesktop.Notifications numbers it (NotificationClosed's reason). */
export const CLOSE_REASONS = { expired: 1, dismissed: 2, closed: 3, undefined: 4 } as const;
export type CloseReason = keyof typeof CLOSE_REASONS;

const URGENCIES = ['low', 'normal', 'critical'] as const;

export interface NotifyRequest {
  app: string;
  replacesId: number;
  icon: string;
  summary: string;
  body: string;
  /** Pairs: key, label, key, label... (the spec's `as` actions). */
  actions: string[];
  /** The urgency hint (0, 1, 2), when given. */
  urgency: number | undefined;
  /** ms; -1 = the server's default, 0 = never expires. */
  expireTimeout: number;
}

/** What the D-Bus side emits when a notification closes or an action is invoked. */
export interface NotificationSignals {
  closed(id: number, reason: number): void;
  actionInvoked(id: number, key: string): void;
}

export interface NotificationLimits {
  /** Shown when a notification asks for the server's default (-1). */
  defaultTimeoutMs: number;
  /** Open notifications kept; past it the oldest is closed (reason undefined). */
  maxOpen: number;
}

const MAX_SUMMARY = 1024;
const MAX_BODY = 8192;
const MAX_ACTIONS = 8;

/** Text cut to `max` characters, marked with an ellipsis when it was longer (a desktop's popup would cut it too). */
const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

interface Shown {
  actions: Set<string>;
  timer: NodeJS.Timeout | undefined;
}

/**
 * The desktop's notifications and their rules, apart from D-Bus: ids (a replacement keeps its id), expiry, actions
 * a browser may invoke, a bound on how many stay open. Each becomes `notification` on the bus and
 * `notification.closed` when it goes.
 */
export class NotificationCenter {
  #nextId = 1;
  readonly #open = new Map<number, Shown>();
  #signals: NotificationSignals | undefined;

  constructor(
    private readonly bus: Pick<BusClient, 'publish'>,
    private readonly limits: NotificationLimits,
    private readonly log: Logger,
  ) {}

  /** The D-Bus server's signals, once it owns the name. */
  attach(signals: NotificationSignals | undefined): void {
    this.#signals = signals;
  }

  get openCount(): number {
    return this.#open.size;
  }

  notify(request: NotifyRequest): number {
    const id = request.replacesId > 0 && this.#open.has(request.replacesId) ? request.replacesId : this.#nextId++;
    clearTimeout(this.#open.get(id)?.timer);
    const actions: Array<{ key: string; label: string }> = [];
    for (let i = 0; i + 1 < request.actions.length && actions.length < MAX_ACTIONS; i += 2) {
      actions.push({ key: clip(request.actions[i] ?? '', 256), label: clip(request.actions[i + 1] ?? '', 256) });
    }
    const timeoutMs = request.expireTimeout < 0 ? this.limits.defaultTimeoutMs : request.expireTimeout;
    const shown: Shown = { actions: new Set(actions.map((a) => a.key)), timer: undefined };
    if (timeoutMs > 0) {
      shown.timer = setTimeout(() => this.close(id, 'expired'), timeoutMs);
      shown.timer.unref();
    }
    this.#open.delete(id);
    this.#open.set(id, shown);
    for (const oldest of this.#open.keys()) {
      if (this.#open.size <= this.limits.maxOpen) break;
      this.close(oldest, 'undefined');
    }
    const urgency = URGENCIES[request.urgency ?? 1] ?? 'normal';
    this.bus.publish('notification', {
      id,
      app: clip(request.app, 256),
      summary: clip(request.summary, MAX_SUMMARY),
      body: clip(request.body, MAX_BODY),
      ...(request.icon && request.icon.length <= 1024 ? { icon: request.icon } : {}),
      urgency,
      timeoutMs,
      actions,
    });
    this.log.info({ id, app: request.app, urgency, actions: actions.length }, 'notification');
    return id;
  }

  /** Closes an open notification (no-op for an unknown id); signals and publishes it. */
  close(id: number, reason: CloseReason): boolean {
    const shown = this.#open.get(id);
    if (!shown) return false;
    clearTimeout(shown.timer);
    this.#open.delete(id);
    this.#signals?.closed(id, CLOSE_REASONS[reason]);
    this.bus.publish('notification.closed', { id, reason });
    return true;
  }

  /** The browsers' notification.action frames `{ id, key }`; anything else is ignored. */
  acceptActions(bus: Pick<BusClient, 'subscribe'>): void {
    bus.subscribe('notification.action', (message) => {
      const data: unknown = message.data;
      if (data === null || typeof data !== 'object') return;
      const { id, key } = data as { id?: unknown; key?: unknown };
      if (typeof id === 'number' && typeof key === 'string') this.invoke(id, key);
    });
  }

  /** A browser invoked an action: signalled to the application, then the notification closes (dismissed). */
  invoke(id: number, key: string): boolean {
    const shown = this.#open.get(id);
    if (!shown?.actions.has(key)) {
      this.log.info({ id, key }, 'action for no open notification, ignored');
      return false;
    }
    this.#signals?.actionInvoked(id, key);
    this.close(id, 'dismissed');
    return true;
  }

  stop(): void {
    for (const shown of this.#open.values()) clearTimeout(shown.timer);
    this.#open.clear();
  }
}
