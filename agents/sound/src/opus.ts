import { createRequire } from 'node:module';
import type OpusScriptType from 'opusscript';

/** Opus works at 48 kHz; the desktop is captured at that rate for it. */
export const OPUS_RATE = 48000;
export const OPUS_FRAME_MS = [10, 20] as const;
export type OpusFrameMs = (typeof OPUS_FRAME_MS)[number];
export const OPUS_BITRATE = { min: 32000, max: 64000 } as const;

export interface OpusSettings {
  frameMs: OpusFrameMs;
  bitrate: number;
  channels: number;
}

type OpusScriptClass = typeof OpusScriptType;
let opusScript: OpusScriptClass | undefined;

/** libopus (opusscript's WebAssembly build) loaded on first use: an agent nobody hears in Opus never pays for it. */
function loadOpus(): OpusScriptClass {
  opusScript ??= createRequire(import.meta.url)('opusscript') as OpusScriptClass;
  return opusScript;
}

/**
 * 48 kHz s16le in, Opus packets out, one per frame: the input is cut into frames of frameMs whatever the capture's
 * fragment sizes are (a remainder waits for the next chunk).
 */
export class OpusFrames {
  readonly #encoder: OpusScriptType;
  readonly #frameSamples: number;
  readonly #frameBytes: number;
  #pending: Buffer = Buffer.alloc(0);

  constructor(readonly settings: OpusSettings) {
    const OpusScript = loadOpus();
    this.#encoder = new OpusScript(OPUS_RATE, settings.channels, OpusScript.Application.AUDIO);
    this.#encoder.setBitrate(settings.bitrate);
    this.#frameSamples = (OPUS_RATE * settings.frameMs) / 1000;
    this.#frameBytes = this.#frameSamples * 2 * settings.channels;
  }

  encode(pcm: Buffer): Buffer[] {
    const input = this.#pending.length ? Buffer.concat([this.#pending, pcm]) : pcm;
    const packets: Buffer[] = [];
    let at = 0;
    for (; at + this.#frameBytes <= input.length; at += this.#frameBytes) {
      packets.push(this.#encoder.encode(input.subarray(at, at + this.#frameBytes), this.#frameSamples));
    }
    this.#pending = Buffer.from(input.subarray(at));
    return packets;
  }

  close(): void {
    this.#encoder.delete();
  }
}
