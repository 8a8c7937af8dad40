import type { EnvSettings } from '@desktop-agents/kit';

/** The bus's own settings (beside the kit's common ones and BROADCAST_SERVICE_TCP_PORT). */
export const BroadcastEnv = {
  /** Period of the `keepalive` frame sent to every client. */
  BROADCAST_KEEPALIVE_MS: { type: 'integer', minimum: 10, default: 30_000 },
  /** Period of the WebSocket ping; a client that has not answered the previous ping is dropped. */
  BROADCAST_HEARTBEAT_MS: { type: 'integer', minimum: 10, default: 30_000 },
  /** Largest frame accepted from a client; larger ones close it with 1009 (the original relays 256 KiB frames). */
  BROADCAST_MAX_FRAME_BYTES: { type: 'integer', minimum: 256, default: 12 * 1024 * 1024 },
  /**
   * A frame's structure, checked in one pass before it is parsed (a million keys in 11 MiB would cost ~400 MiB and
   * seconds to parse, strip and re-serialise): over any of these the client is closed with 1009 and the reason.
   */
  BROADCAST_MAX_FRAME_KEYS: { type: 'integer', minimum: 16, default: 10_000 },
  BROADCAST_MAX_FRAME_DEPTH: { type: 'integer', minimum: 4, maximum: 1000, default: 32 },
  BROADCAST_MAX_ARRAY_LENGTH: { type: 'integer', minimum: 16, default: 10_000 },
  /** Bytes waiting to be sent to one client above which frames to it are shed. */
  BROADCAST_MAX_BUFFERED_BYTES: { type: 'integer', minimum: 1024, default: 1024 * 1024 },
  /** A client that stays over the bound this long is disconnected. */
  BROADCAST_STALL_TIMEOUT_MS: { type: 'integer', minimum: 10, default: 10_000 },
} as const satisfies EnvSettings;
