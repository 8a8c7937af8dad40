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
  /** A WebRTC gateway's RTP input, "ip:port": the desktop sink's monitor is sent there (module-rtp-send). */
  SOUND_RTP_DESTINATION: { type: 'string', minLength: 3 },
} as const satisfies EnvSettings;

export function socketPath(pulseServer: string): string {
  return pulseServer.startsWith('unix:') ? pulseServer.slice(5) : pulseServer;
}

export function cookieOf(hex: string | undefined): Buffer | undefined {
  if (!hex) return undefined;
  const one = Buffer.from(hex.slice(0, 32), 'hex');
  return Buffer.concat(Array.from({ length: 8 }, () => one));
}

/** "ip:port" → its parts; a malformed value stops the agent at start. */
export function rtpDestination(value: string | undefined): { ip: string; port: number } | undefined {
  if (!value) return undefined;
  const m = /^(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})$/.exec(value);
  const port = Number(m?.[2]);
  if (!m?.[1] || !(port >= 1 && port <= 65535)) throw new Error(`SOUND_RTP_DESTINATION must be ipv4:port, got "${value}"`);
  return { ip: m[1], port };
}
