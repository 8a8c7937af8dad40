import { performance } from 'node:perf_hooks';
import type { ContainerSample } from '../../container-pod/index.js';

/** The timings the soak follows window by window. */
export type Series = 'bus' | 'echo' | 'audioGap';

export const SERIES: Record<Series, string> = {
  bus: 'bus delivery (hello, 50 clients)',
  echo: 'keystroke echo (5 terminals)',
  audioGap: 'gap between audio frames (listener)',
};

export interface SoakError {
  /** Seconds since the load started. */
  atS: number;
  kind: string;
  message: string;
}

export interface ContainerSamples {
  /** Seconds since the load started. */
  atS: number;
  containers: Map<string, ContainerSample>;
}

/** Everything the soak's clients saw and the sampler read, by time since the load started. */
export class SoakRecord {
  private readonly started = performance.now();
  readonly errors: SoakError[] = [];
  readonly operations = new Map<string, number>();
  /** [seconds since start, ms] pairs per series. */
  readonly timings: Record<Series, Array<[number, number]>> = { bus: [], echo: [], audioGap: [] };
  readonly samples: ContainerSamples[] = [];
  /** Files that went up and came back down, and those that did not come back byte for byte. */
  transfersVerified = 0;
  transfersCorrupted = 0;

  elapsedS(): number {
    return (performance.now() - this.started) / 1000;
  }

  done(kind: string): void {
    this.operations.set(kind, (this.operations.get(kind) ?? 0) + 1);
  }

  fail(kind: string, err: unknown): void {
    this.done(kind);
    const message = err instanceof Error ? err.message : String(err);
    this.errors.push({ atS: this.elapsedS(), kind, message: message.split('\n')[0] ?? message });
  }

  time(series: Series, ms: number): void {
    this.timings[series].push([this.elapsedS(), ms]);
  }

  get operationCount(): number {
    return [...this.operations.values()].reduce((a, b) => a + b, 0);
  }
}
