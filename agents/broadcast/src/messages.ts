import type { BusMessage } from '@desktop-agents/kit';

/** Relayed to every client, the sender included. */
export const BROADCAST_METHODS = new Set([
  'hello',
  'proc.killed',
  'proc.started',
  'window.list',
  'printer.new',
  'display.setBackgroundBorderColor',
  'speaker.available',
  'printer.available',
]);

/** Delivered to exactly one browser client. */
export const UNICAST_METHODS = new Set(['ocrun', 'logout', 'container', 'download']);

export const COUNTER_METHOD = 'connect.counter';

export type Route = 'broadcast' | 'unicast' | 'counter' | 'ignored';

export function routeOf(method: string): Route {
  if (BROADCAST_METHODS.has(method)) return 'broadcast';
  if (UNICAST_METHODS.has(method)) return 'unicast';
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

const CREDENTIAL_KEYS = new Set(['jwt', 'jwt_token', 'token', 'access_token', 'authorization', 'abcauthorization', 'password', 'cookie', 'broadcast_cookie']);

/**
 * A copy of the message without credential fields at any depth: the browser's `hello` carries the user's JWT, which
 * the original relayed to every client.
 */
export function withoutCredentials<T>(value: T, depth = 0): T {
  if (depth > 16 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v: unknown) => withoutCredentials(v, depth + 1)) as T;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (!CREDENTIAL_KEYS.has(key.toLowerCase())) out[key] = withoutCredentials(v, depth + 1);
  }
  return out as T;
}

export function keepaliveFrame(now = Date.now()): string {
  return JSON.stringify({ method: 'keepalive', data: { data: 'keepalive', date: String(now) } });
}

export function counterFrame(count: number): string {
  return JSON.stringify({ method: COUNTER_METHOD, data: count });
}

export function noRecipientFrame(method: string): string {
  return JSON.stringify({ method: 'error', data: { code: 'NO_RECIPIENT', method, message: 'no browser connected to receive it' } });
}
