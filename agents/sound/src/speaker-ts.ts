import type { WebSocket } from 'ws';
import { FanOut, type ChildProcesses, type Logger } from '@desktop-agents/kit';
import { ListenerGroup } from './listeners.js';
import type { SubscribeToCapture } from './shared-capture.js';

/** MPEG transport stream packets: 188 bytes, each starting with the sync byte. */
export const TS_PACKET = 188;
const TS_SYNC = 0x47;

export interface SpeakerSettings {
  ffmpeg: string;
  /** The capture's rate and channels (s16le) that ffmpeg reads on its stdin. */
  inputRate: number;
  maxListeners: number;
  maxBufferedBytes: number;
  /** How long ffmpeg outlives its last listener (a page reloading, a flood of connects, cost no new process each). */
  lingerMs: number;
}

/**
 * Cuts a byte stream into runs of whole 188-byte packets, resynchronising on the sync byte should the stream ever
 * lose it, so that every frame sent starts on a packet boundary (what jsmpeg's demuxer needs).
 */
export class PacketAligner {
  #rest: Buffer = Buffer.alloc(0);

  push(data: Buffer): Buffer | undefined {
    let input = this.#rest.length ? Buffer.concat([this.#rest, data]) : data;
    let start = 0;
    while (start < input.length && input[start] !== TS_SYNC) start++;
    input = input.subarray(start);
    const whole = input.length - (input.length % TS_PACKET);
    this.#rest = Buffer.from(input.subarray(whole));
    return whole > 0 ? input.subarray(0, whole) : undefined;
  }
}

/**
 * abcdesktop 4.x's speaker: the desktop sink as MPEG-TS with MP2 audio (44.1 kHz mono 128 kb/s) in binary WebSocket
 * frames, for the 4.x page's jsmpeg. ffmpeg (argv, no shell) encodes the agent's own capture from its stdin; it runs
 * while someone listens: started with the first listener, stopped lingerMs after the last leaves. A listener behind by more
 * than maxBufferedBytes misses frames (whole packets) rather than falling behind.
 */
export class MpegTsSpeaker {
  readonly #group: ListenerGroup;
  #encoder: { pid: number; stop: () => void } | undefined;
  #linger: NodeJS.Timeout | undefined;

  constructor(
    private readonly settings: SpeakerSettings,
    private readonly capture: SubscribeToCapture,
    private readonly children: ChildProcesses,
    private readonly log: Logger,
  ) {
    this.#group = new ListenerGroup(new FanOut(), settings.maxBufferedBytes);
  }

  get count(): number {
    return this.#group.size;
  }

  get dropped(): number {
    return this.#group.dropped;
  }

  /** ffmpeg's pid while it runs. */
  get encoderPid(): number | undefined {
    return this.#encoder?.pid;
  }

  add(socket: WebSocket): void {
    if (this.#group.size >= this.settings.maxListeners) return socket.close(1013, 'too many listeners');
    this.#group.add(socket);
    socket.on('message', () => socket.close(1003, 'the speaker only sends'));
    socket.on('close', () => {
      this.#group.remove(socket);
      if (this.#group.size > 0) return;
      clearTimeout(this.#linger);
      this.#linger = setTimeout(() => this.#group.size === 0 && this.#stop(), this.settings.lingerMs);
    });
    clearTimeout(this.#linger);
    if (!this.#encoder) this.#start();
  }

  #start(): void {
    const args = [
      ...['-nostdin', '-hide_banner', '-loglevel', 'error'],
      ...['-f', 's16le', '-ar', String(this.settings.inputRate), '-ac', '1', '-i', 'pipe:0'],
      ...['-ar', '44100', '-ac', '1', '-c:a', 'mp2', '-b:a', '128k'],
      ...['-f', 'mpegts', '-flush_packets', '1', '-muxdelay', '0', '-muxpreload', '0', 'pipe:1'],
    ];
    const { child, exited } = this.children.spawn(this.settings.ffmpeg, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const { stdin, stdout, stderr } = child;
    if (!stdin || !stdout || !stderr || child.pid === undefined) {
      this.log.warn({ ffmpeg: this.settings.ffmpeg }, 'ffmpeg did not start');
      for (const socket of this.#group.sockets) socket.close(1011, 'audio encoder unavailable');
      return;
    }
    const aligner = new PacketAligner();
    stdout.on('data', (data: Buffer) => {
      const packets = aligner.push(data);
      if (packets) this.#group.push(packets);
    });
    let complaint = '';
    stderr.on('data', (data: Buffer) => (complaint = (complaint + data.toString('utf8')).slice(-500)));
    stdin.on('error', () => undefined);
    const unsubscribe = this.capture((pcm) => {
      // a stalled encoder gets no more than ~1 s queued: later audio is dropped, not delayed
      if (stdin.writableLength < this.settings.inputRate * 2) stdin.write(pcm);
    });
    const encoder = {
      pid: child.pid,
      stop: () => {
        unsubscribe();
        stdin.destroy();
        void this.children.kill(child.pid ?? -1, 1000);
      },
    };
    this.#encoder = encoder;
    void exited.then((exit) => {
      if (this.#encoder !== encoder) return;
      this.#encoder = undefined;
      unsubscribe();
      this.log.warn({ ...exit, stderr: complaint.trim() }, 'ffmpeg stopped');
      for (const socket of this.#group.sockets) socket.close(1011, 'audio encoder stopped');
    });
    this.log.info({ pid: child.pid }, 'MPEG-TS encoder started');
  }

  #stop(): void {
    const encoder = this.#encoder;
    this.#encoder = undefined;
    if (!encoder) return;
    encoder.stop();
    this.log.info({ pid: encoder.pid }, 'MPEG-TS encoder stopped (no listener left)');
  }

  close(): void {
    clearTimeout(this.#linger);
    this.#stop();
  }
}
