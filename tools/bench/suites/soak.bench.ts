// npm run bench -- soak [--minutes N]: the container pod under a user's day of load for N minutes (60), every
// container sampled every 10 s; the verdict by slope after a warm-up (memory, fds, processes) and by p99 window by
// window; errors must be none and every file must come back byte for byte. Writes docs/bench/soak-<date>.md. The
// quick run (CI) is the same load for 3 minutes, judged on errors and on nothing being left running after the stop.
import { performance } from 'node:perf_hooks';
import { podmanMissing, startContainerPod } from '../../container-pod/index.js';
import { repoRoot } from '../../harness/index.js';
import { DAY_LOAD, SHORT_LOAD, driveDay } from '../soak/load.js';
import { SoakRecord, type Series } from '../soak/record.js';
import { currentCommit, writeSoakReport } from '../soak/report.js';
import { containerVerdict, seriesVerdict } from '../soak/verdict.js';
import type { BenchOptions, BenchResult, BenchSuite } from '../types.js';

const SAMPLE_EVERY_MS = 10_000;
const minutesOf = ({ quick, minutes }: BenchOptions) => (quick ? 3 : (minutes ?? 60));

const suite: BenchSuite = {
  name: 'soak',
  onlyWhenNamed: true,
  limitMs: (options) => (minutesOf(options) + 15) * 60_000,
  async run(options): Promise<BenchResult[]> {
    const missing = podmanMissing();
    if (missing) throw new Error(`the soak runs the container pod, which needs rootful podman: ${missing}`);
    const minutes = minutesOf(options);
    const warmUpS = Math.min(600, (minutes * 60) / 3);
    const windowS = Math.min(300, (minutes * 60) / 6);
    const commit = currentCommit(repoRoot());
    const pod = await startContainerPod({ name: 'bench-soak', build: options.quick ? 'when-missing' : true, readyTimeoutMs: 120_000 });
    const record = new SoakRecord();
    let stopped = false;
    try {
      const sampling = (async () => {
        while (!stopped) {
          record.samples.push({ atS: record.elapsedS(), containers: await pod.samples() });
          await new Promise((resolve) => setTimeout(resolve, SAMPLE_EVERY_MS));
        }
      })();
      await driveDay({ pod, record, shape: options.quick ? SHORT_LOAD : DAY_LOAD, endsAt: performance.now() + minutes * 60_000 });
      stopped = true;
      await sampling;
    } finally {
      stopped = true;
      await pod.stop();
    }
    // nothing of the pod may be left: containers, the pod itself, its secrets
    const left = (await pod.podman(['ps', '-a', '--filter', `pod=${pod.name}`, '--format', '{{.Names}}'])).trim().split('\n').filter(Boolean);
    const podLeft = await pod.podman(['pod', 'exists', pod.name]).then(
      () => 1,
      () => 0,
    );

    const endS = record.elapsedS();
    const containers = pod.manifest.spec.containers.map((c) => containerVerdict(record, c.name, warmUpS, windowS));
    const series = (['bus', 'echo', 'audioGap'] as Series[]).map((s) => seriesVerdict(record, s, warmUpS, windowS, endS));
    const results: BenchResult[] = [
      {
        measure: `errors seen by the clients, ${minutes} min`,
        unit: 'errors',
        value: record.errors.length,
        reference: { name: 'operations', value: record.operationCount, unit: 'operations' },
        better: 'lower',
        target: { value: { max: 0 } },
      },
      {
        measure: 'files not back byte for byte',
        unit: 'files',
        value: record.transfersCorrupted,
        reference: { name: 'files up and down', value: record.transfersVerified },
        better: 'lower',
        target: { value: { max: 0 } },
      },
      {
        measure: 'left running after the stop (pod, containers)',
        unit: 'left',
        value: left.length + podLeft,
        reference: { name: 'containers that ran', value: pod.manifest.spec.containers.length, unit: 'containers' },
        better: 'lower',
        target: { value: { max: 0 } },
      },
      ...containers.flatMap((c): BenchResult[] => [
        {
          measure: `${c.container}: memory slope after the warm-up`,
          unit: 'MiB/h',
          value: c.memorySlope,
          reference: { name: 'memory after the warm-up', value: c.memoryAfterWarmUp, unit: 'MiB' },
          better: 'lower',
          target: { value: { max: 2 } },
        },
        {
          measure: `${c.container}: open fds at rest, slope`,
          unit: 'fds/h',
          value: c.fdsSlope,
          reference: { name: 'fds after the warm-up', value: c.fdsAfterWarmUp, unit: 'fds' },
          better: 'lower',
          target: { value: { max: 0.5 } },
        },
        {
          measure: `${c.container}: processes at rest, slope`,
          unit: 'processes/h',
          value: c.processesSlope,
          reference: { name: 'processes after the warm-up', value: c.processesAfterWarmUp, unit: 'processes' },
          better: 'lower',
          target: { value: { max: 0.5 } },
        },
      ]),
      ...series.map((s): BenchResult => ({
        measure: `${s.label}: p99 of the last window`,
        unit: 'ms',
        value: s.last?.p99 ?? Number.NaN,
        reference: { name: 'first window after the warm-up', value: s.first?.p99 ?? Number.NaN },
        better: 'lower',
        target: { ratio: { max: 1.5 } },
      })),
    ];
    if (!options.quick)
      console.error(`soak report written to ${writeSoakReport(repoRoot(), { commit, minutes, warmUpS, windowS, results, containers, series, record })}`);
    if (record.errors.length > 0)
      console.error(
        `soak errors (first 20):\n${record.errors
          .slice(0, 20)
          .map((e) => `  ${e.atS.toFixed(0)} s ${e.kind}: ${e.message}`)
          .join('\n')}`,
      );
    // the quick run judges no target, but these two are what the short form is for
    if (options.quick && (record.errors.length > 0 || record.transfersCorrupted > 0 || left.length + podLeft > 0)) {
      throw new Error(`${record.errors.length} errors, ${record.transfersCorrupted} files corrupted, ${left.length + podLeft} left running after the stop`);
    }
    return results;
  },
};

export default suite;
