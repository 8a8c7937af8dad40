/** One figure of a benchmark, measured beside a reference in the same run. */
export interface BenchResult {
  /** What was measured, e.g. "p99 delivery latency, 200 clients". */
  measure: string;
  unit: string;
  value: number;
  reference: { name: string; value: number };
  /** Whether a lower or a higher value is better; the ratio is value / reference either way. */
  better: 'lower' | 'higher';
  /** The target on the ratio (e.g. { max: 0.2 } or { min: 0.8 }), or on the value itself. */
  target?: { ratio?: { min?: number; max?: number }; value?: { min?: number; max?: number } };
}

export interface BenchSuite {
  name: string;
  run(): Promise<BenchResult[]>;
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
