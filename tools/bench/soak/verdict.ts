// What the soak decides from its record: slopes by least squares (per hour) after the warm-up, and each timing's
// p99 window by window.
import type { ContainerSample } from '../../container-pod/index.js';
import { percentile } from '../types.js';
import { SERIES, type Series, type SoakRecord } from './record.js';

/** Least-squares slope of (seconds, value) points, per hour; NaN with fewer than two distinct times. */
export function slopePerHour(points: Array<[number, number]>): number {
  const n = points.length;
  if (n < 2) return Number.NaN;
  const meanT = points.reduce((s, [t]) => s + t, 0) / n;
  const meanV = points.reduce((s, [, v]) => s + v, 0) / n;
  let num = 0;
  let den = 0;
  for (const [t, v] of points) {
    num += (t - meanT) * (v - meanV);
    den += (t - meanT) ** 2;
  }
  return den === 0 ? Number.NaN : (num / den) * 3600;
}

export interface Timing {
  /** The window's index from the start (window 0 starts with the load). */
  window: number;
  p99: number;
  count: number;
}

/** p99 of a series in each window of `windowS` seconds (windows with no figure left out). */
export function windowsOf(points: Array<[number, number]>, windowS: number): Timing[] {
  const byWindow = new Map<number, number[]>();
  for (const [t, ms] of points) {
    const w = Math.floor(t / windowS);
    const list = byWindow.get(w) ?? [];
    list.push(ms);
    byWindow.set(w, list);
  }
  return [...byWindow.entries()]
    .sort(([a], [b]) => a - b)
    .map(([window, list]) => ({
      window,
      p99: percentile(
        list.sort((a, b) => a - b),
        99,
      ),
      count: list.length,
    }));
}

export type Metric = keyof ContainerSample;

/** One container's samples of a metric after `fromS`: (seconds, value). */
export function pointsOf(record: SoakRecord, container: string, metric: Metric, fromS = 0): Array<[number, number]> {
  return record.samples.flatMap(({ atS, containers }) => {
    const sample = containers.get(container);
    return sample && atS >= fromS ? [[atS, sample[metric]] as [number, number]] : [];
  });
}

/** The lowest value in each window (what a count rests at between bursts of load), at the window's middle. */
export function restingPoints(points: Array<[number, number]>, windowS: number): Array<[number, number]> {
  const lowest = new Map<number, number>();
  for (const [t, v] of points) {
    const w = Math.floor(t / windowS);
    lowest.set(w, Math.min(lowest.get(w) ?? Number.POSITIVE_INFINITY, v));
  }
  return [...lowest.entries()].sort(([a], [b]) => a - b).map(([w, v]) => [(w + 0.5) * windowS, v]);
}

/** CPU use in each interval between samples, as a share of one core. */
export function cpuShares(record: SoakRecord, container: string): Array<[number, number]> {
  const points = pointsOf(record, container, 'cpuSeconds');
  return points.slice(1).map(([t, v], i) => {
    const [t0, v0] = points[i] ?? [t, v];
    return [t, t > t0 ? (v - v0) / (t - t0) : 0];
  });
}

export interface ContainerVerdict {
  container: string;
  memoryAfterWarmUp: number;
  memoryEnd: number;
  memorySlope: number;
  /** The slope of the lowest memory of each window (what it rests at between transfers and collections). */
  restingMemorySlope: number;
  fdsAfterWarmUp: number;
  fdsSlope: number;
  processesAfterWarmUp: number;
  processesSlope: number;
  threadsSlope: number;
  cpuMean: number;
}

export function containerVerdict(record: SoakRecord, container: string, warmUpS: number, windowS: number): ContainerVerdict {
  const after = (metric: Metric) => pointsOf(record, container, metric, warmUpS);
  const first = (metric: Metric) => after(metric)[0]?.[1] ?? Number.NaN;
  const shares = cpuShares(record, container).filter(([t]) => t >= warmUpS);
  return {
    container,
    memoryAfterWarmUp: first('memoryMiB'),
    memoryEnd: after('memoryMiB').at(-1)?.[1] ?? Number.NaN,
    memorySlope: slopePerHour(after('memoryMiB')),
    restingMemorySlope: slopePerHour(restingPoints(after('memoryMiB'), windowS)),
    fdsAfterWarmUp: first('fds'),
    fdsSlope: slopePerHour(restingPoints(after('fds'), windowS)),
    processesAfterWarmUp: first('processes'),
    processesSlope: slopePerHour(restingPoints(after('processes'), windowS)),
    threadsSlope: slopePerHour(restingPoints(after('threads'), windowS)),
    cpuMean: shares.reduce((s, [, v]) => s + v, 0) / Math.max(1, shares.length),
  };
}

export interface SeriesVerdict {
  series: Series;
  label: string;
  windows: Timing[];
  /** The first window wholly after the warm-up, and the last whole window. */
  first: Timing | undefined;
  last: Timing | undefined;
}

export function seriesVerdict(record: SoakRecord, series: Series, warmUpS: number, windowS: number, endS: number): SeriesVerdict {
  const windows = windowsOf(record.timings[series], windowS);
  const whole = windows.filter((w) => w.window * windowS >= warmUpS && (w.window + 1) * windowS <= endS + 1);
  return { series, label: SERIES[series], windows, first: whole[0], last: whole.at(-1) };
}
