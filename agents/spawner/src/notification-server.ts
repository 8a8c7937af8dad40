import { Backoff, KeptConnection, type Logger } from '@desktop-agents/kit';
import type { MessageBus } from 'dbus-next';
import type { NotificationCenter } from './notifications.js';

const NAME = 'org.freedesktop.Notifications';
const PATH = '/org/freedesktop/Notifications';

/** The hint's value when it is a D-Bus variant of a number (urgency is a byte). */
function numberHint(hints: unknown, key: string): number | undefined {
  if (hints === null || typeof hints !== 'object') return undefined;
  const hint: unknown = (hints as Record<string, unknown>)[key];
  const value: unknown = hint !== null && typeof hint === 'object' && 'value' in hint ? hint.value : undefined;
  return typeof value === 'number' ? value : undefined;
}

const text = (value: unknown) => (typeof value === 'string' ? value : '');

/**
 * The spawner as `org.freedesktop.Notifications` on the session D-Bus (dbus-next, pure JavaScript, loaded only when
 * a session bus is configured): Notify, CloseNotification, GetCapabilities, GetServerInformation, and the
 * NotificationClosed and ActionInvoked signals, all handed to the NotificationCenter. It connects again, with
 * backoff, when the bus goes away; the spawner's readiness never depends on it.
 */
export class NotificationServer {
  readonly #link: KeptConnection<{ bus: MessageBus; service: NotificationsService }>;

  constructor(
    address: string,
    private readonly center: NotificationCenter,
    log: Logger,
  ) {
    this.#link = new KeptConnection({
      name: 'session D-Bus',
      connect: () => exportNotifications(address, center),
      watch: ({ bus }, lost) => bus.on('error', (err: unknown) => lost(err instanceof Error ? err.message : String(err))),
      disconnect: ({ bus }) => bus.disconnect(),
      backoff: new Backoff(500, 30_000, false),
      log,
    });
    this.#link.onConnect(({ service }) => {
      center.attach({ closed: (id, reason) => service.NotificationClosed(id, reason), actionInvoked: (id, key) => service.ActionInvoked(id, key) });
      log.info({ name: NAME }, 'notification server on the session bus');
    });
    this.#link.onLost(() => center.attach(undefined));
  }

  async start(): Promise<void> {
    await this.#link.start();
  }

  stop(): void {
    this.center.attach(undefined);
    void this.#link.close();
  }
}

/** How long one attempt to reach the session bus and own the name may take. */
const ATTEMPT_MS = 10_000;

interface NotificationsService {
  NotificationClosed(id: number, reason: number): number[];
  ActionInvoked(id: number, key: string): Array<number | string>;
}

/** One connection to the session bus with org.freedesktop.Notifications exported and its name owned. */
async function exportNotifications(address: string, center: NotificationCenter): Promise<{ bus: MessageBus; service: NotificationsService }> {
  const dbus = await import('dbus-next');
  class Notifications extends dbus.interface.Interface {
    Notify(app: unknown, replacesId: unknown, icon: unknown, summary: unknown, body: unknown, actions: unknown, hints: unknown, timeout: unknown): number {
      return center.notify({
        app: text(app),
        replacesId: typeof replacesId === 'number' ? replacesId : 0,
        icon: text(icon),
        summary: text(summary),
        body: text(body),
        actions: Array.isArray(actions) ? actions.map(text) : [],
        urgency: numberHint(hints, 'urgency'),
        expireTimeout: typeof timeout === 'number' ? timeout : -1,
      });
    }
    CloseNotification(id: unknown): void {
      // the spec: closing an unknown or closed notification is not an error
      if (typeof id === 'number') center.close(id, 'closed');
    }
    GetCapabilities(): string[] {
      return ['actions', 'body'];
    }
    GetServerInformation(): string[] {
      return ['desktop-agents spawner', 'desktop-agents', '1.0', '1.2'];
    }
    NotificationClosed(id: number, reason: number): number[] {
      return [id, reason];
    }
    ActionInvoked(id: number, key: string): Array<number | string> {
      return [id, key];
    }
  }
  Notifications.configureMembers({
    methods: {
      Notify: { inSignature: 'susssasa{sv}i', outSignature: 'u' },
      CloseNotification: { inSignature: 'u', outSignature: '' },
      GetCapabilities: { outSignature: 'as' },
      GetServerInformation: { outSignature: 'ssss' },
    },
    signals: { NotificationClosed: { signature: 'uu' }, ActionInvoked: { signature: 'us' } },
  });
  const service = new Notifications(NAME);
  const bus = dbus.sessionBus({ busAddress: address });
  // an error before the name is ours (no daemon there yet) ends this attempt, so the next one is scheduled; the
  // listener that stays keeps a later error from throwing until the connection is watched
  bus.on('error', () => undefined);
  const failed = new Promise<never>((_, reject) => {
    bus.once('error', (err: unknown) => reject(err instanceof Error ? err : new Error(String(err))));
    setTimeout(() => reject(new Error(`no answer from the session bus within ${ATTEMPT_MS} ms`)), ATTEMPT_MS).unref();
  });
  bus.export(PATH, service);
  try {
    const reply = await Promise.race([bus.requestName(NAME, dbus.NameFlag.DO_NOT_QUEUE), failed]);
    if (reply !== dbus.RequestNameReply.PRIMARY_OWNER && reply !== dbus.RequestNameReply.ALREADY_OWNER) {
      throw new Error(`${NAME} is owned by another notification server`);
    }
  } catch (err) {
    bus.disconnect();
    throw err;
  }
  return { bus, service };
}
