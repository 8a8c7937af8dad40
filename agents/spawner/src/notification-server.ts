import { Backoff, type Logger } from '@desktop-agents/kit';
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
  #bus: MessageBus | undefined;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  readonly #backoff = new Backoff(500, 30_000, false);

  constructor(
    private readonly address: string,
    private readonly center: NotificationCenter,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    await this.#connect();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.center.attach(undefined);
    this.#bus?.disconnect();
  }

  async #connect(): Promise<void> {
    if (this.#stopped) return;
    try {
      const dbus = await import('dbus-next');
      const center = this.center;
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
      const bus = dbus.sessionBus({ busAddress: this.address });
      bus.on('error', (err: unknown) => {
        this.log.warn({ err: { message: err instanceof Error ? err.message : String(err) } }, 'session D-Bus connection lost');
        if (this.#bus === bus) this.#bus = undefined;
        this.center.attach(undefined);
        this.#retry();
      });
      bus.export(PATH, service);
      const reply = await bus.requestName(NAME, dbus.NameFlag.DO_NOT_QUEUE);
      if (reply !== dbus.RequestNameReply.PRIMARY_OWNER && reply !== dbus.RequestNameReply.ALREADY_OWNER) {
        bus.disconnect();
        throw new Error(`${NAME} is owned by another notification server`);
      }
      this.#bus = bus;
      this.#backoff.reset();
      this.center.attach({ closed: (id, reason) => service.NotificationClosed(id, reason), actionInvoked: (id, key) => service.ActionInvoked(id, key) });
      this.log.info({ name: NAME }, 'notification server on the session bus');
    } catch (err) {
      this.log.info({ err: { message: (err as Error).message } }, 'session D-Bus not available for notifications');
      this.#retry();
    }
  }

  #retry(): void {
    if (this.#stopped) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.#connect(), this.#backoff.next());
    this.#timer.unref();
  }
}
