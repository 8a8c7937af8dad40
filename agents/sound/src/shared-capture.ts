import type { Readable } from 'node:stream';
import type { Logger } from '@desktop-agents/kit';

export type ChunkHandler = (chunk: Buffer) => void;
/** How a consumer gets the capture's chunks: subscribe, and call what it returns to leave. */
export type SubscribeToCapture = (handler: ChunkHandler) => () => void;

/**
 * One capture of the desktop sink shared by whoever needs it (the Opus encoders, the 4.x speaker's ffmpeg): opened
 * with the first subscriber, closed lingerMs after the last leaves (a page reloading keeps it), opened again when
 * pulse comes back while someone still listens.
 */
export class SharedCapture {
  readonly #handlers = new Set<ChunkHandler>();
  #stream: Readable | undefined;
  #opening = false;
  #linger: NodeJS.Timeout | undefined;

  constructor(
    private readonly open: () => Promise<Readable>,
    private readonly lingerMs: number,
    private readonly log: Logger,
  ) {}

  subscribe(handler: ChunkHandler): () => void {
    this.#handlers.add(handler);
    clearTimeout(this.#linger);
    void this.#start();
    return () => {
      this.#handlers.delete(handler);
      if (this.#handlers.size === 0) {
        clearTimeout(this.#linger);
        this.#linger = setTimeout(() => this.#stop(), this.lingerMs);
        this.#linger.unref();
      }
    };
  }

  /** Pulse is back: a capture lost with it is opened again for those still subscribed. */
  restart(): void {
    this.#stream = undefined;
    if (this.#handlers.size > 0) void this.#start();
  }

  async #start(): Promise<void> {
    if (this.#stream || this.#opening) return;
    this.#opening = true;
    try {
      const stream = await this.open();
      if (this.#handlers.size === 0) {
        stream.destroy();
        return;
      }
      stream.on('data', (chunk: Buffer) => {
        for (const handler of this.#handlers) handler(chunk);
      });
      stream.on('close', () => {
        if (this.#stream === stream) this.#stream = undefined;
      });
      this.#stream = stream;
    } catch (err) {
      this.log.info({ err: { message: (err as Error).message } }, 'capture not opened');
    } finally {
      this.#opening = false;
    }
  }

  #stop(): void {
    if (this.#handlers.size > 0) return;
    this.#stream?.destroy();
    this.#stream = undefined;
  }

  close(): void {
    clearTimeout(this.#linger);
    this.#handlers.clear();
    this.#stop();
  }
}
