import type { WebSocket } from 'ws';
import { FanOut, shareFrame, type Logger, type Outbox } from '@desktop-agents/kit';
import { OPUS_BITRATE, OPUS_FRAME_MS, OPUS_RATE, OpusFrames, type OpusFrameMs, type OpusSettings } from './opus.js';
import { formatFrameFields } from './format-frame.js';
import type { SubscribeToCapture } from './shared-capture.js';

export interface StreamFormat {
  format: 's16le';
  rate: number;
  channels: number;
}

interface Member {
  outbox: Outbox;
  dropped: number;
}

/**
 * Sockets that get the same binary frames, each framed once. A member whose socket holds more than maxBufferedBytes
 * unsent gets no new frames until it catches up (old audio is dropped rather than delayed), so a slow client never
 * accumulates latency or server memory.
 */
export class ListenerGroup {
  readonly #members = new Map<WebSocket, Member>();
  #dropped = 0;

  constructor(
    private readonly fanOut: FanOut,
    private readonly maxBufferedBytes: number,
  ) {}

  get size(): number {
    return this.#members.size;
  }

  get dropped(): number {
    return this.#dropped;
  }

  get sockets(): WebSocket[] {
    return [...this.#members.keys()];
  }

  add(socket: WebSocket): void {
    this.#members.set(socket, { outbox: this.fanOut.outbox(socket), dropped: 0 });
  }

  /** The bytes this member missed. */
  remove(socket: WebSocket): number {
    const member = this.#members.get(socket);
    this.#members.delete(socket);
    return member?.dropped ?? 0;
  }

  push(chunk: Buffer): void {
    if (this.#members.size === 0) return;
    const frame = shareFrame(chunk, true);
    for (const [socket, member] of this.#members) {
      if (socket.readyState !== socket.OPEN) continue;
      if (socket.bufferedAmount > this.maxBufferedBytes) {
        member.dropped += chunk.length;
        this.#dropped += chunk.length;
        continue;
      }
      member.outbox.push(frame);
    }
  }
}

/** A listener's request for a codec, or why it was refused. */
export type CodecRequest = { codec: 'pcm' } | ({ codec: 'opus' } & Omit<OpusSettings, 'channels'>);

export function parseCodecRequest(text: string): CodecRequest | string {
  const fields = formatFrameFields(text, '{"type":"format","codec":...}');
  if (typeof fields === 'string') return fields;
  const { codec, frameMs = 20, bitrate = 48000 } = fields;
  if (codec === 'pcm') return { codec };
  if (codec !== 'opus') return 'codec must be "opus" or "pcm"';
  if (!OPUS_FRAME_MS.includes(frameMs as OpusFrameMs)) return `frameMs must be one of ${OPUS_FRAME_MS.join(', ')}`;
  if (!Number.isInteger(bitrate) || (bitrate as number) < OPUS_BITRATE.min || (bitrate as number) > OPUS_BITRATE.max) {
    return `bitrate must be an integer from ${OPUS_BITRATE.min} to ${OPUS_BITRATE.max} (bit/s)`;
  }
  // encoders are shared per setting: 8 kbit/s steps keep their number small
  return { codec, frameMs: frameMs as OpusFrameMs, bitrate: Math.round((bitrate as number) / 8000) * 8000 };
}

interface OpusChannel {
  frames: OpusFrames;
  group: ListenerGroup;
  unsubscribe: () => void;
}

export class TooManyListeners extends Error {}

/**
 * Browsers hearing the desktop. Each gets a JSON text frame describing what follows, then binary frames: raw
 * s16le PCM at the agent's rate unless it asks for Opus with {"type":"format","codec":"opus","frameMs":20,
 * "bitrate":48000}, answered by a format frame for Opus and then one packet per frame. Each Opus setting has one
 * encoder for all its listeners, running only while someone listens to it.
 */
export class AudioListeners {
  readonly #fanOut = new FanOut();
  readonly #pcm: ListenerGroup;
  readonly #opus = new Map<string, OpusChannel>();
  readonly #codecOf = new Map<WebSocket, string>();
  #dropped = 0;

  constructor(
    private readonly format: StreamFormat,
    private readonly maxBufferedBytes: number,
    private readonly maxListeners: number,
    private readonly captureAt48k: SubscribeToCapture,
    private readonly log: Logger,
  ) {
    this.#pcm = new ListenerGroup(this.#fanOut, maxBufferedBytes);
  }

  get count(): number {
    return this.#codecOf.size;
  }

  get opusCount(): number {
    let n = 0;
    for (const channel of this.#opus.values()) n += channel.group.size;
    return n;
  }

  get dropped(): number {
    let opus = 0;
    for (const channel of this.#opus.values()) opus += channel.group.dropped;
    return this.#dropped + this.#pcm.dropped + opus;
  }

  add(socket: WebSocket): void {
    if (this.count >= this.maxListeners) {
      socket.close(1013, 'too many listeners');
      return;
    }
    this.#join(socket, 'pcm');
    socket.send(JSON.stringify({ type: 'format', codec: 'pcm', ...this.format }));
    socket.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) return socket.close(1003, 'listeners send only format frames');
      const request = parseCodecRequest(data.toString('utf8'));
      if (typeof request === 'string') return socket.close(1007, request);
      this.#switch(socket, request);
    });
    socket.on('close', () => {
      const dropped = this.#leave(socket);
      this.log.info({ dropped }, 'listener left');
    });
    this.log.info({ listeners: this.count }, 'listener joined');
  }

  /** One chunk of PCM at the agent's rate to every PCM listener. */
  push(chunk: Buffer): void {
    this.#pcm.push(chunk);
  }

  #switch(socket: WebSocket, request: CodecRequest): void {
    const key = request.codec === 'pcm' ? 'pcm' : `opus:${request.frameMs}:${request.bitrate}`;
    if (this.#codecOf.get(socket) === key) return;
    this.#leave(socket);
    if (request.codec === 'opus') {
      const settings: OpusSettings = { frameMs: request.frameMs, bitrate: request.bitrate, channels: this.format.channels };
      this.#join(socket, key, settings);
      socket.send(JSON.stringify({ type: 'format', codec: 'opus', rate: OPUS_RATE, ...settings }));
    } else {
      this.#join(socket, 'pcm');
      socket.send(JSON.stringify({ type: 'format', codec: 'pcm', ...this.format }));
    }
  }

  #join(socket: WebSocket, key: string, settings?: OpusSettings): void {
    this.#codecOf.set(socket, key);
    if (!settings) return this.#pcm.add(socket);
    let channel = this.#opus.get(key);
    if (!channel) {
      const frames = new OpusFrames(settings);
      const group = new ListenerGroup(this.#fanOut, this.maxBufferedBytes);
      const unsubscribe = this.captureAt48k((pcm) => {
        for (const packet of frames.encode(pcm)) group.push(packet);
      });
      channel = { frames, group, unsubscribe };
      this.#opus.set(key, channel);
      this.log.info({ ...settings }, 'opus encoder started');
    }
    channel.group.add(socket);
  }

  /** Takes a socket out of its group; the bytes it missed. */
  #leave(socket: WebSocket): number {
    const key = this.#codecOf.get(socket);
    this.#codecOf.delete(socket);
    if (key === undefined) return 0;
    if (key === 'pcm') return this.#pcm.remove(socket);
    const channel = this.#opus.get(key);
    if (!channel) return 0;
    const dropped = channel.group.remove(socket);
    if (channel.group.size === 0) {
      channel.unsubscribe();
      channel.frames.close();
      this.#dropped += channel.group.dropped;
      this.#opus.delete(key);
    }
    return dropped;
  }
}
