import type { EnvSettings } from '@desktop-agents/kit';

export const SoundEnv = {
  /** The daemon's native-protocol socket, as every container of the pod gets it. */
  PULSE_SERVER: { type: 'string', minLength: 1, default: 'unix:/tmp/.pulse.sock' },
  /** 32 hex characters; repeated 8 times it is the 256-byte pulse cookie (abcdesktop's convention). */
  PULSEAUDIO_COOKIE: { type: 'string', minLength: 32 },
  /** The desktop's output: a null sink made at start if missing; its monitor is what the browser hears. */
  SOUND_SINK: { type: 'string', minLength: 1, default: 'desktop' },
  SOUND_RATE: { type: 'integer', minimum: 8000, maximum: 48000, default: 24000 },
  SOUND_CHANNELS: { type: 'integer', minimum: 1, maximum: 2, default: 1 },
  /** Audio waiting for one listener above which its oldest chunks are dropped (~0.5 s at the defaults). */
  SOUND_MAX_BUFFERED_BYTES: { type: 'integer', minimum: 1024, default: 24_000 },
  SOUND_MAX_LISTENERS: { type: 'integer', minimum: 1, default: 16 },
  /** The source desktop apps record the browser's microphone from (the default source; abcdesktop 4.x's name). */
  SOUND_MICROPHONE_SOURCE: { type: 'string', minLength: 1, default: 'microphone' },
  /** Microphone audio waiting to be played into the source above which its oldest part is dropped. */
  SOUND_MICROPHONE_MAX_QUEUED_MS: { type: 'integer', minimum: 10, maximum: 2000, default: 80 },
  /** abcdesktop 4.x's microphone WebSocket (float32 frames), on a port of its own; 0 = off. */
  SOUND_MICROPHONE_TCP_PORT: { type: 'integer', minimum: 0, maximum: 65535, default: 29789 },
  /** abcdesktop 4.x's speaker WebSocket (MPEG-TS with MP2, for jsmpeg), on a port of its own; 0 = off. */
  SOUND_SPEAKER_TCP_PORT: { type: 'integer', minimum: 0, maximum: 65535, default: 29788 },
  /** The program that encodes the 4.x speaker's stream (Debian's ffmpeg), run with argv only. */
  SOUND_FFMPEG: { type: 'string', minLength: 1, default: 'ffmpeg' },
  /** A WebRTC gateway's RTP input, "ip:port": the desktop sink's monitor is sent there (module-rtp-send). */
  SOUND_RTP_DESTINATION: { type: 'string', minLength: 3 },
} as const satisfies EnvSettings;

/** "ip:port" → its parts; a malformed value stops the agent at start. */
export function rtpDestination(value: string | undefined): { ip: string; port: number } | undefined {
  if (!value) return undefined;
  const m = /^(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})$/.exec(value);
  const port = Number(m?.[2]);
  if (!m?.[1] || !(port >= 1 && port <= 65535)) throw new Error(`SOUND_RTP_DESTINATION must be ipv4:port, got "${value}"`);
  return { ip: m[1], port };
}

/** A pulse object name made of letters, digits, "_", "." and "-"; anything else stops the agent at start. */
export function pulseName(variable: string, value: string): string {
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(value)) throw new Error(`${variable} must be 1-64 letters, digits, "_", "." or "-", got "${value}"`);
  return value;
}
