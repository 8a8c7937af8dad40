/** The most recent output of a terminal, bounded in characters: old chunks are dropped (the oldest one cut). */
export class Scrollback {
  readonly #chunks: string[] = [];
  #length = 0;

  constructor(private readonly limit: number) {}

  get length(): number {
    return this.#length;
  }

  append(chunk: string): void {
    this.#chunks.push(chunk);
    this.#length += chunk.length;
    while (this.#length > this.limit) {
      const first = this.#chunks[0] ?? '';
      const excess = this.#length - this.limit;
      if (first.length <= excess) {
        this.#chunks.shift();
        this.#length -= first.length;
      } else {
        this.#chunks[0] = first.slice(excess);
        this.#length -= excess;
      }
    }
  }

  toString(): string {
    return this.#chunks.join('');
  }
}
