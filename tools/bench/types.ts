/** One figure of a benchmark, measured beside a reference in the same run. */
export interface BenchResult {
  /** What was measured, e.g. "p99 delivery latency, 200 clients". */
  measure: string;
  unit: string;
  /** The figure; the median of `rounds` when it has rounds. */
  value: number;
  /** Each round's figure, when the figure is the median of interleaved rounds: the table shows min / median / max. */
  rounds?: number[];
  reference: { name: string; value: number; rounds?: number[]; /** When it differs from the value's (a slope beside a level). */ unit?: string };
  /** Whether a lower or a higher value is better; the ratio is value / reference either way. */
  better: 'lower' | 'higher';
  /** The target on the ratio (e.g. { max: 0.2 } or { min: 0.8 }), or on the value itself. */
  target?: { ratio?: { min?: number; max?: number }; value?: { min?: number; max?: number } };
}

/** How a suite is run: `quick` (npm run bench -- --quick, CI) takes small sizes and one round, to prove it still runs. */
export interface BenchOptions {
  quick: boolean;
  /** --minutes N: how long a suite that runs for a time (the soak) runs. */
  minutes?: number;
}

export interface BenchSuite {
  name: string;
  /** Run only when named (npm run bench -- NAME) or in the quick run: an hour-long soak is not part of every bench. */
  onlyWhenNamed?: boolean;
  /** The suite's own time limit, when it runs longer than the runner's default. */
  limitMs?(options: BenchOptions): number;
  run(options: BenchOptions): Promise<BenchResult[]>;
}

export function meetsTarget(result: BenchResult): boolean | undefined {
  const { target } = result;
  if (!target) return undefined;
  const within = (x: number, bound?: { min?: number; max?: number }) =>
    !bound || ((bound.min === undefined || x >= bound.min) && (bound.max === undefined || x <= bound.max));
  return within(result.value / result.reference.value, target.ratio) && within(result.value, target.value);
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
}

export function median(values: number[]): number {
  return percentile(
    [...values].sort((a, b) => a - b),
    50,
  );
}

/** A figure of interleaved rounds: its median as the value, every round kept for the table's min / max. */
export function ofRounds(rounds: number[]): { value: number; rounds: number[] } {
  return { value: median(rounds), rounds: [...rounds] };
}

/** Throws unless an HTTP answer has the expected status: a refused request fails the bench, never a silent wait. */
export async function expectStatus(response: Response, what: string, status = 200): Promise<Response> {
  if (response.status !== status) throw new Error(`${what}: HTTP ${response.status} ${(await response.text()).slice(0, 200)}`);
  return response;
}
