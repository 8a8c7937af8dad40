// The sound page's audio-thread halves (AudioWorklet): the player with its jitter buffer, and the microphone tap.
/* global AudioWorkletProcessor, registerProcessor, sampleRate, currentTime */
'use strict';

/**
 * Plays mono samples posted by the page ({samples: Float32Array, rate}) through a jitter buffer of `target` seconds:
 * it starts once that much is queued, resamples to the context's rate by linear interpolation, and corrects clock
 * drift by playing up to 1 % faster or slower as the queue drifts from the target (far over it, it skips ahead;
 * empty, it waits to refill). Posts {buffered, underruns, skipped} ten times a second, and {click: time} when a loud
 * onset comes out (what the latency tests time).
 */
class DesktopPlayer extends AudioWorkletProcessor {
  constructor() {
    super();
    this.queue = [];
    this.index = 0;
    this.buffered = 0;
    this.inputRate = sampleRate;
    this.target = 0.06;
    this.playing = false;
    this.s0 = 0;
    this.s1 = 0;
    this.frac = 0;
    this.underruns = 0;
    this.skipped = 0;
    this.quiet = 1;
    this.sinceReport = 0;
    this.port.onmessage = (event) => {
      const m = event.data;
      if (m.samples) {
        if (m.rate !== this.inputRate) {
          this.inputRate = m.rate;
          this.queue = [];
          this.index = 0;
          this.buffered = 0;
          this.playing = false;
        }
        this.queue.push(m.samples);
        this.buffered += m.samples.length;
      } else if (typeof m.target === 'number') {
        this.target = m.target;
      }
    };
  }

  next() {
    while (this.queue.length && this.index >= this.queue[0].length) {
      this.queue.shift();
      this.index = 0;
    }
    if (!this.queue.length) return undefined;
    this.buffered -= 1;
    return this.queue[0][this.index++];
  }

  process(_inputs, outputs) {
    const out = outputs[0][0];
    const seconds = this.buffered / this.inputRate;
    if (!this.playing && seconds >= this.target) this.playing = true;
    if (this.playing && seconds > this.target * 1.5 + 0.02) {
      // far behind (a burst after a stall): drop the oldest audio down to the target
      let drop = Math.floor((seconds - this.target) * this.inputRate);
      this.skipped += drop;
      while (drop-- > 0 && this.next() !== undefined);
    }
    const error = Math.max(-1, Math.min(1, (seconds - this.target) / Math.max(this.target, 0.02)));
    const step = (this.inputRate / sampleRate) * (1 + 0.01 * error);
    for (let i = 0; i < out.length; i++) {
      if (!this.playing) {
        out[i] = 0;
        continue;
      }
      const v = this.s0 + (this.s1 - this.s0) * this.frac;
      out[i] = v;
      if (Math.abs(v) > 0.3) {
        if (this.quiet > 0.05 * sampleRate) this.port.postMessage({ click: currentTime + i / sampleRate });
        this.quiet = 0;
      } else this.quiet++;
      this.frac += step;
      while (this.frac >= 1) {
        this.frac -= 1;
        const s = this.next();
        if (s === undefined) {
          this.playing = false;
          this.underruns++;
          break;
        }
        this.s0 = this.s1;
        this.s1 = s;
      }
    }
    for (let c = 1; c < outputs[0].length; c++) outputs[0][c].set(out);
    this.sinceReport += out.length;
    if (this.sinceReport >= sampleRate / 10) {
      this.sinceReport = 0;
      this.port.postMessage({ buffered: this.buffered / this.inputRate, underruns: this.underruns, skipped: this.skipped });
    }
    return true;
  }
}

/** Hands the page its input in messages of `frames` samples (mono, the first channel). */
class MicrophoneTap extends AudioWorkletProcessor {
  constructor(options) {
    super();
    this.frames = (options.processorOptions && options.processorOptions.frames) || 480;
    this.buffer = new Float32Array(this.frames);
    this.at = 0;
  }

  process(inputs) {
    const input = inputs[0] && inputs[0][0];
    if (!input) return true;
    for (let i = 0; i < input.length; i++) {
      this.buffer[this.at++] = input[i];
      if (this.at === this.frames) {
        this.port.postMessage(this.buffer.buffer, [this.buffer.buffer]);
        this.buffer = new Float32Array(this.frames);
        this.at = 0;
      }
    }
    return true;
  }
}

registerProcessor('desktop-player', DesktopPlayer);
registerProcessor('microphone-tap', MicrophoneTap);
