import { Backoff, KeptConnection, type Logger } from '@desktop-agents/kit';
import { defaultSink, prepareDesktopAudio } from '@desktop-agents/kit/audio-server';
import { EventEmitter } from 'node:events';
import { PulseAudio, PA_SAMPLE_FORMAT, type PlaybackStream, type RecordStream } from 'pulseaudio.js';
import { ERRORS } from './errors.js';

export interface SinkInfo {
  name: string;
  description: string;
  /** Per-channel volume, percent of normal. */
  volume: number[];
  mute: boolean;
}

export interface PulseSettings {
  /** Send the sink's monitor as RTP here when set (a WebRTC gateway). */
  rtp?: { ip: string; port: number };
  socket: string;
  cookie: Buffer | undefined;
  sink: string;
  rate: number;
  channels: number;
  /** The source desktop apps record the browser's microphone from; a null sink "<name>.input" feeds it. */
  microphone: string;
}

/** Samples as a client sends them: what a playback or record stream is opened with. */
export interface SampleSpec {
  format: 'f32le' | 's16le';
  rate: number;
  channels: number;
}

const FORMATS = { f32le: PA_SAMPLE_FORMAT.FLOAT32LE, s16le: PA_SAMPLE_FORMAT.S16LE } as const;
const BYTES_PER_SAMPLE = { f32le: 4, s16le: 2 } as const;

/** Bytes of one sample of every channel: what buffers of this format come in multiples of. */
export function frameBytes(spec: Pick<SampleSpec, 'format' | 'channels'>): number {
  return BYTES_PER_SAMPLE[spec.format] * spec.channels;
}

export function bytesPerSecond(spec: SampleSpec): number {
  return spec.rate * frameBytes(spec);
}

const PA_VOLUME_NORM = 0x10000;

interface PulseEvents {
  up: [];
  down: [reason: string];
  audio: [chunk: Buffer];
}

/** The server's source output of a record stream (pulseaudio.js keeps it on the stream, untyped; `index` is the channel). */
function sourceOutputOf(stream: RecordStream): number {
  if ('sourceOutput' in stream && typeof stream.sourceOutput === 'number') return stream.sourceOutput;
  return stream.index;
}

function toSink(raw: Record<string, unknown>): SinkInfo {
  const volume = raw['channelVolumes'] ?? raw['volume'];
  const levels = Array.isArray(volume) ? volume.map(Number) : [];
  return {
    name: String(raw['name'] ?? ''),
    description: String(raw['description'] ?? ''),
    volume: levels.map((v) => Math.round((v / PA_VOLUME_NORM) * 100)),
    mute: raw['mute'] === true,
  };
}

/**
 * The PulseAudio daemon seen through pulseaudio.js over its unix socket: typed control calls, and one long-lived
 * capture of the desktop sink's monitor (a new capture of an idle null sink takes up to 2 s to deliver). When the
 * daemon goes away it emits `down`, retries with backoff, and on return makes sure the sink exists and captures again.
 */
export class Pulse extends EventEmitter<PulseEvents> {
  readonly #link: KeptConnection<PulseAudio>;
  #capture: RecordStream | undefined;
  /** Every record stream open, moved together when the default sink changes. */
  readonly #streams = new Set<RecordStream>();
  #monitored: string | undefined;

  constructor(
    private readonly settings: PulseSettings,
    private readonly log: Logger,
  ) {
    super();
    this.#link = new KeptConnection<PulseAudio>({
      name: 'pulse',
      connect: () => this.#connect(),
      // the library reports a dropped socket as an 'error' event
      watch: (client, lost) => client.on('error', (err: Error) => /Disconnected/.test(err.message) && lost(err.message)),
      disconnect: async (client) => {
        this.#capture?.destroy();
        await client.disconnect().catch(() => undefined);
      },
      backoff: new Backoff(100, 5000, false),
      log,
    });
    this.#link.onConnect(() => this.emit('up'));
    this.#link.onLost((reason) => {
      this.#capture = undefined;
      this.emit('down', reason);
    });
  }

  get up(): boolean {
    return this.#link.current !== undefined;
  }

  start(): void {
    void this.#link.start();
  }

  /** One connection, the desktop's audio set up on it, and the capture of the default sink's monitor started. */
  async #connect(): Promise<PulseAudio> {
    const client = new PulseAudio('desktop-agents-sound', this.settings.cookie, this.settings.socket);
    client.on('error', (err: Error) => this.log.debug({ err: { message: err.message } }, 'pulse client error'));
    try {
      await client.connect();
      // the audio server's setup has one owner, shared with the spawner's audio routes (the kit's audio-server)
      await prepareDesktopAudio(client, {
        sink: this.settings.sink,
        microphone: this.settings.microphone,
        ...(this.settings.rtp ? { rtp: this.settings.rtp } : {}),
      });
      this.#monitored = this.settings.sink; // the default sink, as the setup has just made it
      client.on('event.server.change', () => void this.#followDefaultSink(client).catch(() => undefined));
      await this.#startCapture(client);
      return client;
    } catch (err) {
      await client.disconnect().catch(() => undefined);
      throw err;
    }
  }

  /**
   * Every capture records the default sink's monitor, and moves when the default changes (setAudioQuality, any
   * client): the applications that follow the default move with it, and the listeners keep hearing them.
   */
  async #followDefaultSink(client: PulseAudio): Promise<void> {
    const sink = await defaultSink(client);
    if (sink === this.#monitored) return;
    this.#monitored = sink;
    for (const stream of this.#streams) {
      await client.moveSourceOutput(sourceOutputOf(stream), `${sink}.monitor`).catch((err: Error) => {
        this.log.warn({ err: { message: err.message }, sink }, 'a capture did not follow the default sink');
      });
    }
    this.log.info({ sink }, 'listening to the default sink');
  }

  async #startCapture(client: PulseAudio): Promise<void> {
    const capture = await this.#record(client, { format: 's16le', rate: this.settings.rate, channels: this.settings.channels }, 10);
    capture.on('data', (chunk: Buffer) => this.emit('audio', chunk));
    this.#capture = capture;
  }

  async #record(client: PulseAudio, spec: SampleSpec, fragmentMs: number): Promise<RecordStream> {
    const frame = frameBytes(spec);
    const capture = await client.createRecordStream({
      sampleSpec: { format: FORMATS[spec.format], rate: spec.rate, channels: spec.channels },
      name: `${this.#monitored ?? this.settings.sink}.monitor`,
      // small fragments for low latency, large enough to keep the frame rate sane
      fragmentSize: Math.round((spec.rate * fragmentMs) / 1000) * frame,
      adjustLatency: true,
    });
    capture.on('error', (err: Error) => this.log.debug({ err: { message: err.message } }, 'capture error'));
    this.#streams.add(capture);
    capture.once('close', () => this.#streams.delete(capture));
    return capture;
  }

  /** Another capture of the desktop sink's monitor, in the format asked (the Opus encoder's and ffmpeg's 48 kHz). */
  async capture(spec: SampleSpec, fragmentMs: number): Promise<RecordStream> {
    return this.#record(this.#connected(), spec, fragmentMs);
  }

  /**
   * A stream into the microphone's input sink in the client's own format (pulse resamples): pulse holds at most
   * targetMs of it, and starts playing once startMs is there.
   */
  async playToMicrophone(spec: SampleSpec, targetMs: number, startMs: number): Promise<PlaybackStream> {
    const perMs = bytesPerSecond(spec) / 1000;
    const frame = frameBytes(spec);
    const bytes = (ms: number) => Math.max(frame, Math.round((perMs * ms) / frame) * frame);
    return this.#connected().createPlaybackStream({
      sampleSpec: { format: FORMATS[spec.format], rate: spec.rate, channels: spec.channels },
      name: `${this.settings.microphone}.input`,
      targetLength: bytes(targetMs),
      preBuffering: bytes(startMs),
      minimumRequest: bytes(5),
      adjustLatency: true,
      properties: { 'media.name': 'browser microphone', 'application.name': 'desktop-agents sound' },
    });
  }

  #connected(): PulseAudio {
    const client = this.#link.current;
    if (!client) throw ERRORS.PULSE_UNREACHABLE();
    return client;
  }

  async serverInfo(): Promise<{ serverName: string; serverVersion: string; defaultSink: string }> {
    const info = await this.#connected().getServerInfo();
    return { serverName: info.name, serverVersion: info.version, defaultSink: info.defaultSink };
  }

  async sinks(): Promise<SinkInfo[]> {
    return (await this.#connected().getAllSinks()).map(toSink);
  }

  async sources(): Promise<Array<{ name: string; description: string }>> {
    return (await this.#connected().getAllSources()).map((s) => ({ name: String(s['name'] ?? ''), description: String(s['description'] ?? '') }));
  }

  async setVolume(sink: string, percent: number): Promise<void> {
    await this.#connected().setSinkVolume(Math.round((percent / 100) * PA_VOLUME_NORM), sink);
  }

  async setMute(sink: string, mute: boolean): Promise<void> {
    await this.#connected().setSinkMute(mute, sink);
  }

  async close(): Promise<void> {
    await this.#link.close();
  }
}
