import { setTimeout as sleep } from 'node:timers/promises';
import { PA_SAMPLE_FORMAT, PulseAudio } from 'pulseaudio.js';
import type { PulseServer } from './pulse.js';

/**
 * Now on the wall clock in ms, as a browser's Date.now() reads it (performance.timeOrigin is calibrated once per
 * process, and Node's and Chromium's differ by tens of ms).
 */
export function epochMs(): number {
  return Date.now();
}

export interface ClickPlayer {
  /** Writes one 10 ms click after `gapMs` of silence; the epoch time it was written at. */
  click(gapMs?: number): Promise<number>;
  stop(): void;
}

/**
 * A playback stream into the desktop sink from this process (pulseaudio.js), fed 10 ms of silence each time pulse
 * asks for more, so the stream runs with pulse's own 10 ms target and nothing waits in a pipe; a full-scale 10 ms
 * click goes out as the next chunk on demand (the onset every latency measure here times).
 */
export async function startClickPlayer(pulse: PulseServer, rate: number, sink = pulse.sink): Promise<ClickPlayer> {
  const client = new PulseAudio('click-player', undefined, pulse.socket);
  // the library reports its own disconnect as an error event
  client.on('error', () => undefined);
  await client.connect();
  const chunk = (rate / 100) * 2;
  const stream = await client.createPlaybackStream({
    sampleSpec: { format: PA_SAMPLE_FORMAT.S16LE, rate, channels: 1 },
    name: sink,
    targetLength: chunk,
    preBuffering: chunk,
    minimumRequest: chunk / 2,
    adjustLatency: true,
  });
  stream.on('error', () => undefined);
  const silence = Buffer.alloc(chunk);
  const click = Buffer.alloc(chunk);
  for (let i = 0; i < click.length; i += 2) click.writeInt16LE(30000, i);
  let clickNext: ((at: number) => void) | undefined;
  let stopped = false;
  const feed = () => {
    if (stopped) return;
    const wanted = clickNext;
    clickNext = undefined;
    if (wanted) wanted(epochMs());
    stream.write(wanted ? click : silence, feed);
  };
  feed();
  // the sink and the captures on its monitor settle their latencies in the first second of a new stream
  await sleep(1000);
  return {
    async click(gapMs = 300) {
      await sleep(gapMs);
      return new Promise<number>((resolve) => (clickNext = resolve));
    },
    stop() {
      stopped = true;
      stream.once('close', () => void client.disconnect().catch(() => undefined));
      stream.destroy();
    },
  };
}

/** The loudest sample of a chunk of s16le audio (0 to 32768): what the latency measures compare to a threshold. */
export function peakOf(data: Buffer): number {
  let peak = 0;
  for (let i = 0; i + 1 < data.length; i += 2) peak = Math.max(peak, Math.abs(data.readInt16LE(i)));
  return peak;
}
