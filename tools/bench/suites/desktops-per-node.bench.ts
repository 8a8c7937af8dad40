// How many desktops fit on this machine: N container pods at once (1, 2, 4, 8; each its own pod address and token),
// started one after another. For each N: the last pod's start time, each pod's memory at idle, one pod's memory and
// CPU with an active user (the soak's load at a tenth) beside the idle ones, and the agents' CPU share at idle. From
// those, how many desktops fit in this machine's memory and cores at idle and active, and what a pod's memory is made
// of (the desktop's graphical container, our agents, pulseaudio, cupsd).
import { randomBytes } from 'node:crypto';
import { cpus, totalmem } from 'node:os';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { podmanMissing, startContainerPod, type ContainerPod, type ContainerSample } from '../../container-pod/index.js';
import { DAY_LOAD, driveDay, tenthOf } from '../soak/load.js';
import { SoakRecord } from '../soak/record.js';
import type { BenchResult, BenchSuite } from '../types.js';

/** The containers that are not ours: everything else in the pod is an agent. */
const NOT_AGENTS: Record<string, string> = { graphical: 'graphical (Xvfb, openbox, VNC)', pulseaudio: 'pulseaudio', printer: 'printer (cupsd, cups-pdf)' };
const partOf = (container: string) => NOT_AGENTS[container] ?? 'agents (six containers)';

interface PodFigures {
  memoryMiB: number;
  /** Share of one core over the interval. */
  cpu: number;
  agentsCpu: number;
  /** Memory by part of the pod (graphical, agents, pulseaudio, printer). */
  parts: Map<string, number>;
}

/** Each pod's memory at the end of `seconds` and its CPU over them. */
async function measure(pods: ContainerPod[], seconds: number, during?: Promise<void>): Promise<PodFigures[]> {
  const before = await Promise.all(pods.map((p) => p.samples()));
  const t0 = performance.now();
  const peaks = pods.map(() => 0);
  const deadline = t0 + seconds * 1000;
  let last: Array<Map<string, ContainerSample>> = before;
  while (performance.now() < deadline) {
    await sleep(Math.min(5_000, Math.max(0, deadline - performance.now())));
    last = await Promise.all(pods.map((p) => p.samples()));
    last.forEach(
      (samples, i) =>
        (peaks[i] = Math.max(
          peaks[i] ?? 0,
          [...samples.values()].reduce((s, c) => s + c.memoryMiB, 0),
        )),
    );
  }
  await during;
  const elapsed = (performance.now() - t0) / 1000;
  return pods.map((_, i) => {
    const start = before[i] ?? new Map<string, ContainerSample>();
    const end = last[i] ?? new Map<string, ContainerSample>();
    const cpuOf = (names: string[]) => names.reduce((s, n) => s + ((end.get(n)?.cpuSeconds ?? 0) - (start.get(n)?.cpuSeconds ?? 0)), 0) / elapsed;
    const parts = new Map<string, number>();
    for (const [name, sample] of end) parts.set(partOf(name), (parts.get(partOf(name)) ?? 0) + sample.memoryMiB);
    return {
      memoryMiB: peaks[i] ?? 0,
      cpu: cpuOf([...end.keys()]),
      agentsCpu: cpuOf([...end.keys()].filter((n) => !(n in NOT_AGENTS))),
      parts,
    };
  });
}

const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);

const suite: BenchSuite = {
  name: 'desktops per node',
  async run({ quick }): Promise<BenchResult[]> {
    const missing = podmanMissing();
    if (missing) throw new Error(`desktops per node runs container pods, which needs rootful podman: ${missing}`);
    const counts = quick ? [1] : [1, 2, 4, 8];
    const idleS = quick ? 10 : 30;
    const activeS = quick ? 15 : 60;
    const pods: ContainerPod[] = [];
    const results: BenchResult[] = [];
    const totalMiB = totalmem() / 2 ** 20;
    const cores = cpus().length;
    let firstStart = Number.NaN;
    let lastIdle: PodFigures[] = [];
    let lastActive: PodFigures | undefined;
    try {
      for (const count of counts) {
        let lastStart = Number.NaN;
        while (pods.length < count) {
          const pod = await startContainerPod({
            name: `bench-node-${pods.length}`,
            token: randomBytes(24).toString('base64url'),
            build: pods.length === 0 ? 'when-missing' : false,
            // each pod at its own address only: podman would publish every pod's ports on the host's same ones
            publishPorts: false,
            readyTimeoutMs: 180_000,
          });
          pods.push(pod);
          lastStart = pod.startup.readyMs;
          if (pods.length === 1) firstStart = lastStart;
        }
        const idle = await measure(pods, idleS);
        // one user active on the first pod while the others idle
        const active = pods[0];
        if (!active) throw new Error('no pod');
        const record = new SoakRecord();
        const load = driveDay({ pod: active, record, shape: tenthOf(DAY_LOAD), endsAt: performance.now() + activeS * 1000 });
        const busy = await measure(pods, activeS, load);
        if (record.errors.length > 0)
          throw new Error(`the active user's load saw ${record.errors.length} errors: ${record.errors[0]?.kind}: ${record.errors[0]?.message}`);
        const idleMemory = mean(idle.map((f) => f.memoryMiB));
        results.push(
          {
            measure: `${count} pods: the last one's start (kube play to every probe)`,
            unit: 'ms',
            value: lastStart,
            reference: { name: 'the first pod, alone', value: firstStart },
            better: 'lower',
          },
          {
            measure: `${count} pods: memory per pod at idle`,
            unit: 'MiB',
            value: idleMemory,
            reference: { name: 'one pod alone at idle', value: results.find((r) => r.measure === '1 pods: memory per pod at idle')?.value ?? idleMemory },
            better: 'lower',
          },
          {
            measure: `${count} pods: the active pod's memory (a tenth of the soak's load)`,
            unit: 'MiB',
            value: busy[0]?.memoryMiB ?? Number.NaN,
            reference: { name: 'a pod at idle', value: idleMemory },
            better: 'lower',
          },
          {
            measure: `${count} pods: the active pod's CPU`,
            unit: 'cores',
            value: busy[0]?.cpu ?? Number.NaN,
            reference: { name: 'a pod at idle', value: mean(idle.map((f) => f.cpu)) },
            better: 'lower',
          },
          {
            measure: `${count} pods: our agents' CPU per pod at idle`,
            unit: 'cores',
            value: mean(idle.map((f) => f.agentsCpu)),
            reference: { name: 'the whole pod at idle', value: mean(idle.map((f) => f.cpu)) },
            better: 'lower',
          },
        );
        lastIdle = idle;
        lastActive = busy[0];
      }
    } finally {
      for (const pod of pods) await pod.stop();
    }
    // what fits: this machine's memory and cores over what one desktop takes, at idle and with its user active
    const idleMemory = mean(lastIdle.map((f) => f.memoryMiB));
    const idleCpu = mean(lastIdle.map((f) => f.cpu));
    const fits = (memory: number, cpu: number) => Math.floor(Math.min(totalMiB / memory, cores / Math.max(cpu, 1e-6)));
    results.push(
      {
        measure: `desktops that fit at idle (${(totalMiB / 1024).toFixed(0)} GiB, ${cores} cores)`,
        unit: 'desktops',
        value: fits(idleMemory, idleCpu),
        reference: { name: 'by memory alone', value: Math.floor(totalMiB / idleMemory) },
        better: 'higher',
      },
      {
        measure: `desktops that fit with every user active`,
        unit: 'desktops',
        value: fits(lastActive?.memoryMiB ?? Number.NaN, lastActive?.cpu ?? Number.NaN),
        reference: { name: 'by memory alone', value: Math.floor(totalMiB / (lastActive?.memoryMiB ?? Number.NaN)) },
        better: 'higher',
      },
    );
    const parts = new Map<string, number[]>();
    for (const figures of lastIdle) for (const [part, mib] of figures.parts) parts.set(part, [...(parts.get(part) ?? []), mib]);
    for (const [part, values] of [...parts.entries()].sort(([, a], [, b]) => mean(b) - mean(a))) {
      results.push({
        measure: `where an idle pod's memory goes: ${part}`,
        unit: 'MiB',
        value: mean(values),
        reference: { name: 'the whole pod', value: idleMemory },
        better: 'lower',
      });
    }
    return results;
  },
};

export default suite;
