// Density: what an idle desktop's agents cost. Idle RSS of each agent alone beside a bare fastify process, all six in
// one process (npm run agents) beside the sum of the six alone, and start-to-ready times beside `node -e ''`, all
// measured in this run on the same machine.
import { performance } from 'node:perf_hooks';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { mkdir } from 'node:fs/promises';
import { AGENT_PORTS, ownPortVariable, type AgentName } from '@desktop-agents/kit';
import {
  AGENT_PROCESS_ENV,
  agentCommand,
  freePort,
  makeRunDir,
  repoRoot,
  rssMiB,
  startAgent,
  startAgentsInOneProcess,
  startLikeAnAgent,
  startProcess,
  waitFor,
} from '../../harness/index.js';
import { componentsEnv, startComponents, type PodComponents } from '../../pod/components.js';
import { median, ofRounds, type BenchResult, type BenchSuite } from '../types.js';

const names = Object.keys(AGENT_PORTS) as AgentName[];
/** How long a process idles before its RSS is read (start-up garbage collected, timers settled), and how many starts
 * are timed per agent (and of the six in one process): the figure is their median. */
const FULL = { settleMs: 2_000, starts: 3 };
const QUICK = { settleMs: 500, starts: 1 };
let { settleMs: SETTLE_MS, starts: STARTS } = FULL;

function podEnv(components: PodComponents, dir: string): Record<string, string> {
  return {
    AUTH_TOKEN: 'density-bench-token-0001',
    BROADCAST_COOKIE: 'density-bench-cookie',
    CONTAINER_IP_ADDR: '127.0.0.1',
    HOME: join(dir, 'home'),
    SPAWNER_PID_FILE: join(dir, 'spawner.pid'),
    ...componentsEnv(components),
  };
}

interface StartFigures {
  rss: number;
  readyMs: number;
  /** Each start's time to ready. */
  starts: number[];
}

/**
 * Starts something STARTS times (`start` resolves once it is ready): the median start-to-ready time (one start on a
 * noisy machine says little), and its idle RSS SETTLE_MS after the first start.
 */
async function timedStarts(start: () => Promise<{ pid: number; stop: () => Promise<unknown> }>): Promise<StartFigures> {
  const times: number[] = [];
  let rss = Number.NaN;
  for (let n = 0; n < STARTS; n++) {
    const t0 = performance.now();
    const running = await start();
    times.push(performance.now() - t0);
    if (n === 0) {
      await sleep(SETTLE_MS);
      rss = rssMiB(running.pid);
    }
    await running.stop();
  }
  return { rss, readyMs: median(times), starts: times };
}

/**
 * A bare fastify process listening on a loopback port: the floor an HTTP agent in Node stands on, started exactly as
 * the agents are (their start script's Node flags, their process env): the tuning they get, the reference gets too.
 */
async function bareFastify(): Promise<StartFigures> {
  const script = "const f = (await import('fastify')).default(); await f.listen({ port: 0, host: '127.0.0.1' }); console.log('listening');";
  const t0 = performance.now();
  const proc = startLikeAnAgent('fastify', ['--input-type=module', '-e', script], { cwd: join(repoRoot(), 'shared') });
  await proc.aliveWhile(waitFor('bare fastify', async () => proc.output.includes('listening'), 10_000, 5));
  const readyMs = performance.now() - t0;
  await sleep(SETTLE_MS);
  const rss = rssMiB(proc.pid);
  await proc.stop();
  return { rss, readyMs, starts: [readyMs] };
}

async function emptyNode(): Promise<number> {
  const t0 = performance.now();
  const proc = startProcess('node', process.execPath, ['-e', '']);
  await proc.exited;
  return performance.now() - t0;
}

const suite: BenchSuite = {
  name: 'density',
  async run({ quick }): Promise<BenchResult[]> {
    ({ settleMs: SETTLE_MS, starts: STARTS } = quick ? QUICK : FULL);
    const components = await startComponents();
    const run = await makeRunDir('density');
    await mkdir(join(run.dir, 'home'));
    try {
      const env = podEnv(components, run.dir);
      const fastify = await bareFastify();
      const nodeStarts: number[] = [];
      for (let n = 0; n < STARTS; n++) nodeStarts.push(await emptyNode());
      const node = { name: "node -e ''", ...ofRounds(nodeStarts) };

      // each agent alone, started as its image starts it (the package's start script), the bus running as in a pod
      const alone = new Map<AgentName, StartFigures>();
      const bus = await startAgent('broadcast', { env });
      for (const name of names) {
        const measured = await timedStarts(async () => {
          const port = await freePort();
          const agentEnv = {
            ...process.env,
            ...AGENT_PROCESS_ENV,
            ...env,
            BROADCAST_SERVICE_TCP_PORT: String(bus.port),
            [ownPortVariable(name)]: String(port),
          };
          const agent = startProcess(name, process.execPath, agentCommand(repoRoot(), name), { env: agentEnv, cwd: join(repoRoot(), 'agents', name) });
          const ready = async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.status === 200;
          await agent.aliveWhile(waitFor(`${name} ready`, ready, 15_000, 5));
          return { pid: agent.pid, stop: () => agent.stop() };
        });
        alone.set(name, measured);
      }
      await bus.stop();

      // all six in one process
      const { rss: oneRss, starts: oneStarts } = await timedStarts(async () => {
        const [first] = await startAgentsInOneProcess(names, { env, pollMs: 5 });
        if (!first) throw new Error('the six agents did not start');
        return { pid: first.process.pid, stop: () => first.stop() };
      });

      const sumAlone = [...alone.values()].reduce((sum, a) => sum + a.rss, 0);
      return [
        ...names.map((name): BenchResult => ({
          measure: `${name} alone, idle RSS`,
          unit: 'MiB',
          value: alone.get(name)?.rss ?? Number.NaN,
          reference: { name: 'bare fastify listening, started as the agents are', value: fastify.rss },
          better: 'lower',
          target: { ratio: { max: 1.1 } },
        })),
        {
          measure: 'all six in one process, idle RSS',
          unit: 'MiB',
          value: oneRss,
          reference: { name: 'the six alone, summed', value: sumAlone },
          better: 'lower',
          target: { value: { max: 100 } },
        },
        ...names.map((name): BenchResult => ({
          measure: `${name} start to /readyz 200, median of ${STARTS}`,
          unit: 'ms',
          ...ofRounds(alone.get(name)?.starts ?? []),
          reference: node,
          better: 'lower',
          target: { value: { max: 400 } },
        })),
        {
          measure: `all six in one process, start to every /readyz 200, median of ${STARTS}`,
          unit: 'ms',
          ...ofRounds(oneStarts),
          reference: node,
          better: 'lower',
          target: { value: { max: 1000 } },
        },
      ];
    } finally {
      await components.stop();
      await run.remove();
    }
  },
};

export default suite;
