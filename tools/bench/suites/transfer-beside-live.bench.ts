// The six agents in one process (npm run agents, as the images that hold several run them) with a live audio listener
// and 50 bus clients, first alone, then while 1 GiB is uploaded and downloaded through the filer of that process:
// the audio stream's gaps and the bus's delivery p99 during the transfer, beside the same measures without it. A
// transfer must not pause the process's other work (what forced collections did).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitFor } from '../../harness/index.js';
import { startPod, type Pod } from '../../pod/pod.js';
import { curl, openSocket } from '../clients.js';
import { percentile, type BenchResult, type BenchSuite } from '../types.js';

const CLIENTS = 50;
/** An audio frame arriving this long after the one before it is a gap a listener hears (frames come every 10 ms). */
const GAP_MS = 50;

interface Live {
  /** ms between consecutive audio frames. */
  audioIntervals: number[];
  busLatency: number[];
}

/** The listener and the bus clients, measuring while `during` runs (or for `seconds` when there is nothing to run). */
async function measure(pod: Pod, during: () => Promise<unknown>): Promise<Live> {
  const url = (name: string) => (pod.agents.find((a) => a.name === name)?.running?.url ?? '').replace('http', 'ws');
  const live: Live = { audioIntervals: [], busLatency: [] };
  const listener = await openSocket(`${url('sound')}/sound/listen?jwt_token=${pod.token}`);
  let last = 0;
  listener.on('message', (_data, isBinary) => {
    if (!isBinary) return;
    const now = performance.now();
    if (last > 0) live.audioIntervals.push(now - last);
    last = now;
  });
  const clients = await Promise.all(Array.from({ length: CLIENTS }, () => openSocket(`${url('broadcast')}/broadcast?jwt_token=${pod.token}`)));
  for (const client of clients) {
    client.on('message', (raw: Buffer) => {
      const m = /"t":([\d.]+)/.exec(raw.toString('latin1', 0, 80));
      if (m) live.busLatency.push(performance.now() - Number(m[1]));
    });
  }
  const publisher = await openSocket(`${url('broadcast')}/`, { broadcast_cookie: pod.cookie });
  await sleep(1000); // the audio stream past its start, the joins told
  live.audioIntervals.length = 0;
  let running = true;
  const publishing = (async () => {
    while (running) {
      publisher.send(JSON.stringify({ method: 'hello', data: { t: performance.now() } }));
      await sleep(100);
    }
  })();
  try {
    await during();
  } finally {
    running = false;
    await publishing;
    for (const ws of [listener, publisher, ...clients]) ws.terminate();
  }
  live.audioIntervals.sort((a, b) => a - b);
  live.busLatency.sort((a, b) => a - b);
  return live;
}

const suite: BenchSuite = {
  name: 'transfer beside live traffic',
  async run({ quick }): Promise<BenchResult[]> {
    const bytes = quick ? 32 * 1024 * 1024 : 1024 * 1024 * 1024;
    const size = quick ? '32 MiB' : '1 GiB';
    const work = mkdtempSync(join(tmpdir(), 'beside-live-'));
    const source = join(work, 'big.bin');
    execFileSync('sh', ['-c', `head -c ${bytes} /dev/urandom > "$0"`, source]);
    const pod = await startPod({ oneProcess: true });
    try {
      for (const a of pod.agents) await waitFor(`${a.name} ready`, async () => (await a.running?.get('/readyz'))?.status === 200, 15_000);
      const filer = pod.agents.find((a) => a.name === 'filer')?.running?.url ?? '';
      const auth = ['-H', `Authorization: Bearer ${pod.token}`];
      let transferSeconds = 0;
      let transfers = 0;
      const loaded = await measure(pod, async () => {
        const t0 = performance.now();
        // at least two seconds of transfer (a small one, in quick mode, is over before any audio frame is timed)
        do {
          await curl([...auth, '-F', 'fullPath=beside-live.bin', '-F', 'overwrite=true', '-F', `file=@${source}`, `${filer}/filer`]);
          await curl([...auth, `${filer}/filer?file=~/beside-live.bin`]);
          transfers += 1;
        } while (performance.now() - t0 < 2000);
        transferSeconds = (performance.now() - t0) / 1000;
      });
      // the same measures for as long, with nothing else running
      const alone = await measure(pod, () => sleep(transferSeconds * 1000));
      const gaps = (live: Live) => live.audioIntervals.filter((ms) => ms >= GAP_MS).length;
      const during = `while ${size} is uploaded and downloaded in the same process (${transfers > 1 ? `${transfers} times, ` : ''}${transferSeconds.toFixed(1)} s)`;
      const without = 'the same time without the transfer';
      return [
        {
          measure: `audio frames ${GAP_MS} ms or more apart, ${during}`,
          unit: 'gaps',
          value: gaps(loaded),
          reference: { name: without, value: gaps(alone) },
          better: 'lower',
          target: { value: { max: gaps(alone) } },
        },
        {
          measure: `audio frame interval p99, ${during}`,
          unit: 'ms',
          value: percentile(loaded.audioIntervals, 99),
          reference: { name: without, value: percentile(alone.audioIntervals, 99) },
          better: 'lower',
          target: { ratio: { max: 1.5 } },
        },
        {
          measure: `bus delivery p99 to ${CLIENTS} clients, ${during}`,
          unit: 'ms',
          value: percentile(loaded.busLatency, 99),
          reference: { name: without, value: percentile(alone.busLatency, 99) },
          better: 'lower',
          target: { ratio: { max: 1.5 } },
        },
      ];
    } finally {
      await pod.stop();
      rmSync(work, { recursive: true, force: true });
    }
  },
};

export default suite;
