import { Transform, type TransformCallback } from 'node:stream';
import { SNIFF_BYTES, sniffType } from '@desktop-agents/kit';
import type { TransferDirection, TransferRules } from '@desktop-agents/kit';

/** What a gate learnt of the content that passed it. */
export interface GateFacts {
  type?: string;
  bytes: number;
}

/**
 * A stream that lets a content through only when the transfer rules allow it: the first SNIFF_BYTES are held until
 * their type is known (nothing is written before the decision), every byte is counted against maxBytes. A refusal
 * errors the stream with the TransferRefused, so the pipeline's writer stops and its caller removes what was written.
 * `head`: bytes of the same content already received (a resumed upload), sniffed with the first new ones.
 */
export class TransferGate extends Transform {
  readonly facts: GateFacts;
  #held: Buffer[] = [];
  #heldBytes = 0;
  #decided: boolean;
  readonly #head: Buffer;

  constructor(
    private readonly rules: TransferRules,
    private readonly direction: TransferDirection,
    private readonly subject: string,
    options: { head?: Buffer; offset?: number } = {},
  ) {
    super();
    this.#head = options.head ?? Buffer.alloc(0);
    this.facts = { bytes: options.offset ?? this.#head.length };
    // sniffed even without a rule on types: the audit trail names the type of what passed
    this.#decided = this.#head.length >= SNIFF_BYTES;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.facts.bytes += chunk.length;
    try {
      this.rules.check(this.direction, this.subject, { bytes: this.facts.bytes });
    } catch (err) {
      done(err as Error);
      return;
    }
    if (this.#decided) {
      done(null, chunk);
      return;
    }
    this.#held.push(chunk);
    this.#heldBytes += chunk.length;
    if (this.#head.length + this.#heldBytes < SNIFF_BYTES) {
      done();
      return;
    }
    this.#decide().then(() => done(), done);
  }

  override _flush(done: TransformCallback): void {
    if (this.#decided) done();
    else this.#decide().then(() => done(), done);
  }

  async #decide(): Promise<void> {
    const held = Buffer.concat(this.#held);
    this.#held = [];
    const type = await sniffType(Buffer.concat([this.#head, held]));
    this.facts.type = type;
    this.rules.check(this.direction, this.subject, { mime: type, bytes: this.facts.bytes });
    this.#decided = true;
    if (held.length > 0) this.push(held);
  }
}
