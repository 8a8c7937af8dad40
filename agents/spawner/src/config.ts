import { TransferEnv, type EnvSettings } from '@desktop-agents/kit';

export const SpawnerEnv = {
  ...TransferEnv,
  /**
   * JSON map of handled command keys to programs, e.g. {"xeyes.XEyes":"/usr/bin/xeyes"} (no arguments accepted), or
   * to { "program": "/usr/bin/mousepad", "args": "home-files" } (arguments must be existing files inside home) or
   * { "program": "/usr/bin/xmessage", "args": "text" } (words, none starting with "-"). Unset: abcdesktop's defaults
   * (xeyes.XEyes, and qterminal.qterminal unless TARGET_MODE=hardening).
   */
  SPAWNER_COMMANDS: { type: 'string', minLength: 1 },
  TARGET_MODE: { type: 'string', default: '' },
  /** Where the window manager finds our pid to send SIGUSR1/SIGUSR2 (abcdesktop's path). */
  SPAWNER_PID_FILE: { type: 'string', minLength: 1, default: '/var/run/desktop/spawner.pid' },
  /** Extra env names getenv may show, comma-separated (beside ACCEPTCUTTEXT, SENDCUTTEXT, ABCDESKTOP_SERVICE_*). */
  SPAWNER_ENV_ALLOW: { type: 'string', default: '' },
  POD_NAME: { type: 'string' },
  POD_NAMESPACE: { type: 'string' },
  NODE_NAME: { type: 'string' },
  /** Largest wallpaper file read, and largest image (width × height) decoded: checked from the header first. */
  SPAWNER_WALLPAPER_MAX_BYTES: { type: 'integer', minimum: 1024, default: 32 * 1024 * 1024 },
  SPAWNER_WALLPAPER_MAX_PIXELS: { type: 'integer', minimum: 1, default: 4096 * 4096 },
  /** Most bytes a wallpaper's compressed pixels may inflate to (4096² RGBA at 8 bits, with each row's filter byte). */
  SPAWNER_WALLPAPER_MAX_DECODED_BYTES: { type: 'integer', minimum: 1024, default: 4096 * (4096 * 4 + 1) },
  /** The image setDefaultImage puts on the root window when no image was set before (~/.config/current_wallpaper). */
  SPAWNER_DEFAULT_IMAGE: { type: 'string', minLength: 1 },
  /** abcdesktop's ocrun launcher, linked as ~/.local/bin/<launch> by generateDesktopFiles when it exists. */
  SPAWNER_OCRUN: { type: 'string', default: '/composer/node/ocrun/ocrun.js' },
  PULSE_SERVER: { type: 'string', default: 'unix:/tmp/.pulse.sock' },
  /** abcdesktop's PulseAudio cookie (hex), sent when the spawner changes the audio server's setup. */
  PULSEAUDIO_COOKIE: { type: 'string' },
  /** The only RTP destination configurePulse may send audio to, "ip:port", from the control plane; unset = refused. */
  SPAWNER_RTP_DESTINATION: { type: 'string' },
  /** cupsd's socket: getSettings lists "printers" while it exists. */
  CUPS_SOCKET: { type: 'string', default: '/tmp/.cups.sock' },
  /** The desktop's session D-Bus, where the spawner serves org.freedesktop.Notifications; unset = no notifications. */
  DBUS_SESSION_BUS_ADDRESS: { type: 'string', minLength: 1 },
  /** How long a notification asking for the server's default stays shown. */
  SPAWNER_NOTIFICATION_TIMEOUT_MS: { type: 'integer', minimum: 1, default: 10_000 },
  /** abcdesktop's clipboard switches: desktop → browsers, browsers → desktop (off with 0/false/disable/disabled). */
  SENDCUTTEXT: { type: 'string' },
  ACCEPTCUTTEXT: { type: 'string' },
  /** The largest clipboard value either way; the bus's frame bound admits it in base64 (12 MiB by default). */
  CLIPBOARD_MAX_BYTES: { type: 'integer', minimum: 1, default: 8 * 1024 * 1024 },
  CLIPBOARD_MIME_ALLOW: { type: 'string', default: 'text/plain,image/png' },
  /** No keyboard or pointer input for this long publishes desktop.idle; 0 = never. */
  SPAWNER_IDLE_MS: { type: 'integer', minimum: 0, default: 900_000 },
  /** The largest screen (or monitors' bounding box) POST /spawner/display and display.fit may ask for, WIDTHxHEIGHT. */
  SPAWNER_DISPLAY_MAX: { type: 'string', default: '7680x4320' },
  /** display.fit applies the last size of a burst this long after it (a window being dragged sends many). */
  SPAWNER_DISPLAY_FIT_DEBOUNCE_MS: { type: 'integer', minimum: 0, maximum: 10_000, default: 300 },
  /** GET /spawner/screenshot per client address and minute (each reads the whole screen from the X server). */
  SPAWNER_SCREENSHOTS_PER_MINUTE: { type: 'integer', minimum: 1, default: 60 },
  /** JSON file with { date, commit, version } describing this build (abcdesktop's version file). */
  SPAWNER_VERSION_FILE: { type: 'string', minLength: 1, default: '/composer/version.json' },
} as const satisfies EnvSettings;

/**
 * What `args` a launched command may get: none; paths of existing files inside home (passed as real paths); or
 * plain text words (a message, a number), none of which may look like an option (`-e`, `--command`).
 */
export type ArgumentPolicy = 'none' | 'home-files' | 'text';
const POLICIES: readonly unknown[] = ['none', 'home-files', 'text'];

export interface HandledCommand {
  program: string;
  args: ArgumentPolicy;
}

function commandEntry(key: string, value: unknown): HandledCommand {
  if (typeof value === 'string') return { program: value, args: 'none' };
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const { program, args = 'none' } = value as { program?: unknown; args?: unknown };
    if (typeof program === 'string' && POLICIES.includes(args)) return { program, args: args as ArgumentPolicy };
  }
  throw new Error(`SPAWNER_COMMANDS: "${key}" must be a program path or { "program": PATH, "args": "none" | "home-files" | "text" }`);
}

/**
 * abcdesktop's launchable keys: `xeyes.XEyes` always, `qterminal.qterminal` unless TARGET_MODE=hardening (so that
 * exactly one key launches there). A configured map replaces these defaults.
 */
export function defaultCommands(targetMode: string): Map<string, HandledCommand> {
  const commands = new Map<string, HandledCommand>([['xeyes.XEyes', { program: '/usr/bin/xeyes', args: 'none' }]]);
  if (targetMode !== 'hardening') commands.set('qterminal.qterminal', { program: '/usr/bin/qterminal', args: 'none' });
  return commands;
}

export function handledCommands(json: string | undefined, targetMode: string): Map<string, HandledCommand> {
  if (json === undefined) return defaultCommands(targetMode);
  const parsed: unknown = JSON.parse(json);
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('SPAWNER_COMMANDS must be a JSON object');
  return new Map(Object.entries(parsed).map(([key, value]) => [key, commandEntry(key, value)]));
}

/** SPAWNER_DISPLAY_MAX as numbers; a value that is not WIDTHxHEIGHT (1 to 32767 each) stops the agent, naming the key. */
export function displayMax(value: string): { maxWidth: number; maxHeight: number } {
  const match = /^([1-9][0-9]{0,4})x([1-9][0-9]{0,4})$/.exec(value);
  const [maxWidth, maxHeight] = [Number(match?.[1]), Number(match?.[2])];
  if (!match || maxWidth > 32767 || maxHeight > 32767) throw new Error(`SPAWNER_DISPLAY_MAX must be WIDTHxHEIGHT, each from 1 to 32767 (got "${value}")`);
  return { maxWidth, maxHeight };
}
