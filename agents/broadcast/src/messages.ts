import {
  AGENT_EVENT_METHODS,
  BROWSER_EVENT_METHODS,
  COUNTER_METHOD,
  REPLY_METHOD,
  SERVICE_EVENT_METHODS,
  SHARED_METHODS,
  UNICAST_METHODS,
  type BusMessage,
} from '@desktop-agents/kit';

/** Relayed to every client, the sender included: the agents' events and what anyone may share. */
export const BROADCAST_METHODS: ReadonlySet<string> = new Set<string>([...AGENT_EVENT_METHODS, ...SHARED_METHODS]);

/** Agent events: relayed only when a local service (another agent of the pod) sends them, never a browser. */
export const LOCAL_ONLY_METHODS: ReadonlySet<string> = new Set<string>([...AGENT_EVENT_METHODS, ...SERVICE_EVENT_METHODS]);

/** What agents tell the pod's local services only (the transfer audit): never relayed to a browser. */
export const SERVICE_ONLY_METHODS: ReadonlySet<string> = new Set<string>(SERVICE_EVENT_METHODS);

/**
 * The browsers' requests to the agents (an action on a notification, a clipboard to paste): relayed only when a
 * browser sends them, and only to the agents (other browsers have no use for them), stamped with the sender's id.
 */
export const BROWSER_ONLY_METHODS: ReadonlySet<string> = new Set<string>(BROWSER_EVENT_METHODS);

/** Delivered to exactly one browser client. */
export const UNICAST: ReadonlySet<string> = new Set<string>(UNICAST_METHODS);

export { COUNTER_METHOD };

export type Route = 'broadcast' | 'unicast' | 'counter' | 'to-agents' | 'to-services' | 'reply' | 'ignored';

export function routeOf(method: string): Route {
  if (BROADCAST_METHODS.has(method)) return 'broadcast';
  if (BROWSER_ONLY_METHODS.has(method)) return 'to-agents';
  if (SERVICE_ONLY_METHODS.has(method)) return 'to-services';
  if (method === REPLY_METHOD) return 'reply';
  if (UNICAST.has(method)) return 'unicast';
  if (method === COUNTER_METHOD) return 'counter';
  return 'ignored';
}

export type Parsed = { ok: true; message: BusMessage } | { ok: false; reason: string };

/** A frame is a JSON object with a string `method`; anything else is refused with a reason. */
export function parseFrame(text: string): Parsed {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'frame is not JSON' };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { ok: false, reason: 'frame is not a JSON object' };
  const method = (value as { method?: unknown }).method;
  if (typeof method !== 'string' || method.length === 0) return { ok: false, reason: 'frame has no method' };
  return { ok: true, message: value as BusMessage };
}

/** Nesting kept in relayed frames; what is deeper is dropped (it could hide a credential from the stripping). */
export const MAX_RELAY_DEPTH = 16;

export function keepaliveFrame(now = Date.now()): string {
  // the original's text: nothing reads it, but its tests compare it
  return JSON.stringify({ method: 'keepalive', data: { data: 'I am a teapot', date: String(now) } });
}

export function counterFrame(count: number): string {
  return JSON.stringify({ method: COUNTER_METHOD, data: count });
}

export function forbiddenMethodFrame(method: string, onlyFrom: 'local' | 'browser' = 'local'): string {
  const message = onlyFrom === 'local' ? 'only a local service of the pod may send this event' : 'only a browser may send this request';
  return JSON.stringify({ method: 'error', data: { code: 'FORBIDDEN_METHOD', method, message } });
}

export function noRecipientFrame(method: string): string {
  return JSON.stringify({ method: 'error', data: { code: 'NO_RECIPIENT', method, message: 'no browser connected to receive it' } });
}
