import type { Writable } from 'node:stream';
import type { Logger } from '@desktop-agents/kit';
import { bytesPerSecond, frameBytes, type SampleSpec } from './pulse.js';

/** Opens the stream a talker's samples are played into (the microphone source's input sink). */
export type OpenPlayback = (spec: SampleSpec) => Promise<Writable>;

export class MicrophoneBusy extends Error {
  constructor() {
    super('the microphone is in use by another page');
  }
}

/**
 * The desktop's microphone source, fed by one browser at a time. A second talker is refused while the first is
 * connected; the source itself stays whether anyone talks or not (silence when no one does).
 */
export class Microphone {
  #talker: Talk | undefined;
  #dropped = 0;

  constructor(
    private readonly open: OpenPlayback,
    private readonly maxQueuedMs: number,
    private readonly log: Logger,
  ) {}

  get talking(): boolean {
    return this.#talker !== undefined;
  }

  /** Audio bytes dropped because they arrived faster than the source played them. */
  get dropped(): number {
    return this.#dropped + (this.#talker?.dropped ?? 0);
  }

  /** The microphone for one page until it closes the Talk; refused while another page holds it. */
  claim(): Talk {
    if (this.#talker) throw new MicrophoneBusy();
    const talk = new Talk(this.open, this.maxQueuedMs, this.log, () => {
      if (this.#talker !== talk) return;
      this.#dropped += talk.dropped;
      this.#talker = undefined;
    });
    this.#talker = talk;
    this.log.info('talker joined');
    return talk;
  }

  close(): void {
    this.#talker?.close();
  }
}

/** What abcdesktop 4.x's page sends without saying: float32 mono at 44.1 kHz. */
export const DEFAULT_TALK_FORMAT: SampleSpec = { format: 'f32le', rate: 44100, channels: 1 };

/**
 * One talker's samples on their way to pulse: a queue bounded in time that drops its oldest audio when the source
 * plays slower than the page sends (a stalled network then bursting), so the desktop hears the page late by at most
 * the bound, never more. One write is in flight at a time; pulse's requests pace the next.
 */
export class Talk {
  readonly #queue: Buffer[] = [];
  #queued = 0;
  #stream: Writable | undefined;
  #opening = false;
  #writing = false;
  #closed = false;
  #retryAt = 0;
  #started = false;
  dropped = 0;
  #spec: SampleSpec = DEFAULT_TALK_FORMAT;
  #maxQueuedBytes = 0;

  constructor(
    private readonly open: OpenPlayback,
    private readonly maxQueuedMs: number,
    private readonly log: Logger,
    private readonly onClose: () => void,
  ) {
    this.format(DEFAULT_TALK_FORMAT);
  }

  /** Bytes one sample frame (every channel) takes: what a message's length must be a multiple of. */
  get frameBytes(): number {
    return frameBytes(this.#spec);
  }

  /** The page's format, before its first samples (false once audio has started: the stream is opened with it). */
  format(spec: SampleSpec): boolean {
    if (this.#started) return false;
    this.#spec = spec;
    this.#maxQueuedBytes = Math.max(this.frameBytes, Math.round((bytesPerSecond(spec) * this.maxQueuedMs) / 1000));
    return true;
  }

  push(samples: Buffer): void {
    if (this.#closed || samples.length === 0) return;
    this.#started = true;
    this.#queue.push(samples);
    this.#queued += samples.length;
    while (this.#queued > this.#maxQueuedBytes && this.#queue.length > 1) {
      const old = this.#queue.shift();
      this.#queued -= old?.length ?? 0;
      this.dropped += old?.length ?? 0;
    }
    if (!this.#stream) void this.#openStream();
    else this.#pump();
  }

  async #openStream(): Promise<void> {
    if (this.#opening || Date.now() < this.#retryAt) return;
    this.#opening = true;
    try {
      const stream = await this.open(this.#spec);
      if (this.#closed) {
        stream.destroy();
        return;
      }
      stream.on('error', (err: Error) => {
        this.log.info({ err: { message: err.message } }, 'microphone stream lost');
        this.#lost(stream);
      });
      stream.on('close', () => this.#lost(stream));
      this.#stream = stream;
      this.#pump();
    } catch (err) {
      this.log.info({ err: { message: (err as Error).message } }, 'microphone stream not opened');
      this.#retryAt = Date.now() + 1000;
    } finally {
      this.#opening = false;
    }
  }

  #lost(stream: Writable): void {
    if (this.#stream !== stream) return;
    this.#stream = undefined;
    this.#writing = false;
  }

  #pump(): void {
    const stream = this.#stream;
    if (!stream || this.#writing) return;
    const next = this.#queue.shift();
    if (!next) return;
    this.#queued -= next.length;
    this.#writing = true;
    stream.write(next, () => {
      if (this.#stream !== stream) return;
      this.#writing = false;
      this.#pump();
    });
  }

  /** The page left: its stream goes, the source stays (and falls silent). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue.length = 0;
    this.#queued = 0;
    this.#stream?.destroy();
    this.#stream = undefined;
    this.log.info({ dropped: this.dropped }, 'talker left');
    this.onClose();
  }
}
