import { Backoff, type Logger } from '@desktop-agents/kit';
import { EventEmitter } from 'node:events';
import { PulseAudio, PA_SAMPLE_FORMAT, type RecordStream } from 'pulseaudio.js';
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
}

const PA_VOLUME_NORM = 0x10000;

interface PulseEvents {
  up: [];
  down: [reason: string];
  audio: [chunk: Buffer];
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
  #client: PulseAudio | undefined;
  #capture: RecordStream | undefined;
  #timer: NodeJS.Timeout | undefined;
  readonly #backoff = new Backoff(100, 5000, false);
  #closed = false;

  constructor(
    private readonly settings: PulseSettings,
    private readonly log: Logger,
  ) {
    super();
  }

  get up(): boolean {
    return this.#client !== undefined;
  }

  start(): void {
    void this.#connect();
  }

  async #connect(): Promise<void> {
    if (this.#closed) return;
    const client = new PulseAudio('desktop-agents-sound', this.settings.cookie, this.settings.socket);
    // the library reports a dropped socket as an 'error' event
    client.on('error', (err: Error) => {
      if (/Disconnected/.test(err.message)) this.#lost(client, err.message);
      else this.log.debug({ err: { message: err.message } }, 'pulse client error');
    });
    try {
      await client.connect();
      await this.#ensureSink(client);
      await this.#ensureRtp(client);
      this.#client = client;
      this.#backoff.reset();
      await this.#startCapture(client);
      this.log.info({ sink: this.settings.sink }, 'pulse connected');
      this.emit('up');
    } catch (err) {
      this.log.info({ err: { message: (err as Error).message } }, 'pulse not reachable');
      try {
        await client.disconnect();
      } catch {
        // already gone
      }
      this.#retry();
    }
  }

  #lost(client: PulseAudio, reason: string): void {
    if (this.#client !== client) return;
    this.#client = undefined;
    this.#capture = undefined;
    this.log.warn({ reason }, 'pulse lost');
    this.emit('down', reason);
    this.#retry();
  }

  #retry(): void {
    if (this.#closed) return;
    const delay = this.#backoff.next();
    this.#timer = setTimeout(() => void this.#connect(), delay);
  }

  async #ensureSink(client: PulseAudio): Promise<void> {
    const sinks = (await client.getAllSinks()).map((s) => String(s['name']));
    if (!sinks.includes(this.settings.sink)) {
      await client.loadModule('module-null-sink', { sink_name: this.settings.sink, sink_properties: 'device.description=Desktop' });
      this.log.info({ sink: this.settings.sink }, 'desktop sink created');
    }
  }

  /**
   * Exactly one module-rtp-send, from the desktop sink's monitor to the configured gateway: pulseaudio.js cannot
   * list modules, so the senders are found by the stream they record ("RTP Monitor Stream") and replaced.
   */
  async #ensureRtp(client: PulseAudio): Promise<void> {
    const rtp = this.settings.rtp;
    if (!rtp) return;
    const senders = (await client.getSourceOutputList()).filter((o) => o['name'] === 'RTP Monitor Stream');
    for (const module of new Set(senders.map((o) => Number(o['module'])))) await client.unloadModule(module);
    await client.loadModule('module-rtp-send', { source: `${this.settings.sink}.monitor`, destination_ip: rtp.ip, port: rtp.port });
    this.log.info({ destination: `${rtp.ip}:${rtp.port}` }, 'RTP sender loaded');
  }

  async #startCapture(client: PulseAudio): Promise<void> {
    const bytesPerSecond = this.settings.rate * this.settings.channels * 2;
    const capture = await client.createRecordStream({
      sampleSpec: { format: PA_SAMPLE_FORMAT.S16LE, rate: this.settings.rate, channels: this.settings.channels },
      name: `${this.settings.sink}.monitor`,
      // 20 ms fragments: small enough for low latency, large enough to keep the frame rate sane
      fragmentSize: Math.round(bytesPerSecond / 50) & ~1,
      adjustLatency: true,
    });
    capture.on('data', (chunk: Buffer) => this.emit('audio', chunk));
    capture.on('error', (err: Error) => this.log.debug({ err: { message: err.message } }, 'capture error'));
    this.#capture = capture;
  }

  #connected(): PulseAudio {
    if (!this.#client) throw ERRORS.PULSE_DOWN();
    return this.#client;
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
    this.#closed = true;
    clearTimeout(this.#timer);
    const client = this.#client;
    this.#client = undefined;
    this.#capture?.destroy();
    if (client) await client.disconnect().catch(() => undefined);
  }
}
