/**
 * Delays for reconnecting to something that went away (the bus, the X display, PulseAudio): minMs, doubling up to
 * maxMs, each drawn in its upper half so that many clients do not retry in step. reset() after a success.
 */
export class Backoff {
  #attempt = 0;

  constructor(
    private readonly minMs: number,
    private readonly maxMs: number,
    private readonly jitter = true,
  ) {}

  next(): number {
    const base = Math.min(this.maxMs, this.minMs * 2 ** this.#attempt);
    this.#attempt += 1;
    return this.jitter ? base / 2 + Math.random() * (base / 2) : base;
  }

  reset(): void {
    this.#attempt = 0;
  }
}
