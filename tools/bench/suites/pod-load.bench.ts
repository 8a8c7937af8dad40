// The whole pod under a bounded loopback load for POD_LOAD_SECONDS (60): 200 bus clients fed at 100 msg/s, 20
// terminals typing, 10 uploads in parallel. Each latency is reported beside the same measure taken on the idle pod
// in the same run; each agent's peak RSS beside its idle RSS; errors beside the number of operations.
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { rssMiB, waitFor } from '../../harness/index.js';
import { openSocket } from '../clients.js';
import { startPod, type Pod } from '../../pod/pod.js';
import { expectStatus, percentile, type BenchResult, type BenchSuite } from '../types.js';

let SECONDS = Number(process.env['POD_LOAD_SECONDS'] ?? 60);

/** 0 for an agent that is not running (killed, or not started). */
function rssOrZero(pid: number): number {
  try {
    return rssMiB(pid);
  } catch {
    return 0;
  }
}

interface Load {
  busLatency: number[];
  echoLatency: number[];
  uploadLatency: number[];
  operations: number;
  errors: number;
}

/** Runs the three kinds of traffic for `seconds` with `clients` bus clients, `terminals` and `uploaders`. */
async function drive(pod: Pod, seconds: number, clients: number, terminals: number, uploaders: number): Promise<Load> {
  const url = (name: string) => pod.agents.find((a) => a.name === name)?.running?.url ?? '';
  const load: Load = { busLatency: [], echoLatency: [], uploadLatency: [], operations: 0, errors: 0 };
  const end = performance.now() + seconds * 1000;
  const busUrl = `${url('broadcast').replace('http', 'ws')}/broadcast?jwt_token=${pod.token}`;
  const subscribers = await Promise.all(Array.from({ length: clients }, () => openSocket(busUrl)));
  subscribers.forEach((ws, i) => {
    ws.on('message', (raw: Buffer) => {
      const m = i % 20 === 0 ? /"t":([\d.]+)/.exec(raw.toString('latin1', 0, 80)) : null;
      if (m) load.busLatency.push(performance.now() - Number(m[1]));
    });
  });
  const publisher = await openSocket(`${url('broadcast').replace('http', 'ws')}/`, { broadcast_cookie: pod.cookie });
  const publishing = (async () => {
    while (performance.now() < end) {
      publisher.send(JSON.stringify({ method: 'window.list', data: { t: performance.now() } }));
      load.operations += 1;
      await sleep(10);
    }
  })();
  const typing = Array.from({ length: terminals }, async () => {
    try {
      const res = await expectStatus(
        await fetch(`${url('webshell')}/terminals?cols=80&rows=24`, { method: 'POST', headers: { authorization: `Bearer ${pod.token}` } }),
        'a new terminal',
      );
      const pid = (await res.json()) as number;
      const ws = await openSocket(`${url('webshell').replace('http', 'ws')}/terminals/${pid}?${pod.token}`);
      let waiting: ((s: string) => void) | undefined;
      ws.on('message', (d: Buffer) => waiting?.(d.toString()));
      await sleep(300);
      ws.send('cat\r');
      await sleep(200);
      while (performance.now() < end) {
        const t0 = performance.now();
        const ok = await new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(false), 2000);
          waiting = (s) => s.includes('z') && (clearTimeout(timer), resolve(true));
          ws.send('z');
        });
        load.operations += 1;
        if (ok) load.echoLatency.push(performance.now() - t0);
        else load.errors += 1;
        await sleep(200);
      }
      ws.close();
    } catch {
      load.errors += 1;
    }
  });
  const uploading = Array.from({ length: uploaders }, async (_, u) => {
    for (let n = 0; performance.now() < end; n++) {
      const form = new FormData();
      form.append('fullPath', `load/${u}-${n}.bin`);
      form.append('file', new File([randomBytes(1024 * 1024)], 'x.bin'));
      const t0 = performance.now();
      load.operations += 1;
      try {
        const res = await fetch(`${url('filer')}/filer`, { method: 'POST', headers: { authorization: `Bearer ${pod.token}` }, body: form });
        if (res.status === 200) load.uploadLatency.push(performance.now() - t0);
        else load.errors += 1;
      } catch {
        load.errors += 1;
      }
    }
  });
  await Promise.all([publishing, ...typing, ...uploading]);
  await sleep(300);
  for (const ws of [...subscribers, publisher]) ws.terminate();
  for (const list of [load.busLatency, load.echoLatency, load.uploadLatency]) list.sort((a, b) => a - b);
  return load;
}

/** The same load on the six agents in one process (npm run agents): its peak RSS beside the six processes' peaks summed. */
async function oneProcessPeak(separatePeaks: number): Promise<BenchResult> {
  const pod = await startPod({ oneProcess: true });
  try {
    for (const a of pod.agents) await waitFor(`${a.name} ready`, async () => (await a.running?.get('/readyz'))?.status === 200, 15_000);
    const pid = pod.agents[0]?.running?.process.pid ?? 0;
    let peak = rssOrZero(pid);
    const sampler = setInterval(() => (peak = Math.max(peak, rssOrZero(pid))), 200);
    await drive(pod, SECONDS, 200, 20, 10);
    clearInterval(sampler);
    return {
      measure: `all six in one process, peak RSS under the same ${SECONDS} s load`,
      unit: 'MiB',
      value: peak,
      reference: { name: 'the six processes, peaks summed', value: separatePeaks },
      better: 'lower',
      target: { value: { max: 160 } },
    };
  } finally {
    await pod.stop();
  }
}

const suite: BenchSuite = {
  name: 'pod under load',
  async run({ quick }): Promise<BenchResult[]> {
    if (quick) SECONDS = 5;
    const pod = await startPod();
    try {
      for (const a of pod.agents) await waitFor(`${a.name} ready`, async () => (await a.running?.get('/readyz'))?.status === 200, 15_000);
      const idleRss = new Map(pod.agents.map((a) => [a.name, rssOrZero(a.running?.process.pid ?? 0)]));
      const idle = await drive(pod, 5, 10, 2, 1);
      const peak = new Map<string, number>();
      const sampler = setInterval(() => {
        for (const a of pod.agents) peak.set(a.name, Math.max(peak.get(a.name) ?? 0, rssOrZero(a.running?.process.pid ?? 0)));
      }, 200);
      const loaded = await drive(pod, SECONDS, 200, 20, 10);
      clearInterval(sampler);
      const p99 = (l: number[]) => percentile(l, 99);
      return [
        {
          measure: `errors, ${SECONDS} s of load`,
          unit: 'errors',
          value: loaded.errors,
          reference: { name: 'operations', value: loaded.operations },
          better: 'lower',
          target: { value: { max: 0 } },
        },
        {
          measure: 'bus delivery p99, 200 clients',
          unit: 'ms',
          value: p99(loaded.busLatency),
          reference: { name: 'idle pod, 10 clients', value: p99(idle.busLatency) },
          better: 'lower',
        },
        {
          measure: 'keystroke echo p99, 20 terminals',
          unit: 'ms',
          value: p99(loaded.echoLatency),
          reference: { name: 'idle pod, 2 terminals', value: p99(idle.echoLatency) },
          better: 'lower',
        },
        {
          measure: '1 MiB upload p99, 10 in parallel',
          unit: 'ms',
          value: p99(loaded.uploadLatency),
          reference: { name: 'idle pod, 1 at a time', value: p99(idle.uploadLatency) },
          better: 'lower',
        },
        ...pod.agents.map((a): BenchResult => ({
          measure: `${a.name} peak RSS`,
          unit: 'MiB',
          value: peak.get(a.name) ?? 0,
          reference: { name: 'idle', value: idleRss.get(a.name) ?? 0 },
          better: 'lower',
        })),
        await oneProcessPeak([...peak.values()].reduce((sum, v) => sum + v, 0)),
      ];
    } finally {
      await pod.stop();
    }
  },
};

export default suite;
