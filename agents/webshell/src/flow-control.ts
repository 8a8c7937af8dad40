/**
 * Watermarks between a producer that can pause (the pty) and a consumer that confirms what it took (the socket's
 * write callbacks): account() the bytes handed over, commit() the bytes confirmed. Each says when to switch.
 */
export class FlowControl {
  #pending = 0;
  #paused = false;

  constructor(
    private readonly high: number,
    private readonly low: number,
  ) {}

  get pending(): number {
    return this.#pending;
  }

  /** True when the producer must pause now. */
  account(bytes: number): boolean {
    this.#pending += bytes;
    if (!this.#paused && this.#pending > this.high) {
      this.#paused = true;
      return true;
    }
    return false;
  }

  /** True when the producer may resume now. */
  commit(bytes: number): boolean {
    this.#pending = Math.max(0, this.#pending - bytes);
    if (this.#paused && this.#pending <= this.low) {
      this.#paused = false;
      return true;
    }
    return false;
  }

  /** The consumer went away: nothing is pending, and the producer may run. */
  reset(): boolean {
    this.#pending = 0;
    const wasPaused = this.#paused;
    this.#paused = false;
    return wasPaused;
  }
}
