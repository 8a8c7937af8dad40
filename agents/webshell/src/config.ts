import type { EnvSettings } from '@desktop-agents/kit';

export const WebshellEnv = {
  /** The shell to run; the user's login shell (then bash) when empty. */
  WEBSHELL_SHELL: { type: 'string', default: '' },
  /** How long a terminal outlives its last WebSocket (or waits for its first). */
  WEBSHELL_GRACE_MS: { type: 'integer', minimum: 0, default: 60_000 },
  /** Recent output kept per terminal and replayed on attach, in characters. */
  WEBSHELL_SCROLLBACK_CHARS: { type: 'integer', minimum: 1024, default: 256 * 1024 },
  WEBSHELL_MAX_TERMINALS: { type: 'integer', minimum: 1, default: 32 },
  /** Largest frame a client may send; larger closes it with 1009. */
  WEBSHELL_MAX_FRAME_BYTES: { type: 'integer', minimum: 1024, default: 64 * 1024 },
  /** Typed input the program has not read yet above which the client's socket is no longer read (paused). */
  WEBSHELL_MAX_PENDING_INPUT_BYTES: { type: 'integer', minimum: 1024, default: 1024 * 1024 },
  /** Output sent to a client and not yet written to its socket above which the pty is paused... */
  WEBSHELL_HIGH_WATER_BYTES: { type: 'integer', minimum: 1024, default: 1024 * 1024 },
  /** ...and below which it is resumed. */
  WEBSHELL_LOW_WATER_BYTES: { type: 'integer', minimum: 0, default: 256 * 1024 },
} as const satisfies EnvSettings;

export const MAX_COLS = 1000;
export const MAX_ROWS = 500;
