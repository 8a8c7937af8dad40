// getwindowslist with 50 windows against `wmctrl -l` (a process per call), and launch-to-listed latency against an
// app started directly, all on one Xvfb + openbox in the same run.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { startAgent, startXvfb, waitFor } from '../../../harness/index.js';
import { expectStatus, percentile, type BenchResult, type BenchSuite } from '../../types.js';

const TOKEN = 'bench-token-0123456789';
const run = promisify(execFile);

async function timeEach(n: number, fn: () => Promise<unknown>): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  return times.sort((a, b) => a - b);
}

const suite: BenchSuite = {
  name: 'spawner',
  async run({ quick }): Promise<BenchResult[]> {
    const [windows, lists, launches] = quick ? [10, 10, 2] : [50, 100, 10];
    const x = await startXvfb({ windowManager: true });
    const home = mkdtempSync(join(tmpdir(), 'spawner-bench-'));
    const env = { ...process.env, DISPLAY: x.display };
    const apps: ChildProcess[] = [];
    const agent = await startAgent('spawner', {
      env: {
        AUTH_TOKEN: TOKEN,
        DISPLAY: x.display,
        HOME: home,
        LOG_LEVEL: 'warn',
        SPAWNER_PID_FILE: join(home, 'pid'),
        // the launch below passes a word: the command's policy must allow words
        SPAWNER_COMMANDS: JSON.stringify({ 'xmessage.Xmessage': { program: '/usr/bin/xmessage', args: 'text' } }),
        BROADCAST_SERVICE_URL: 'ws://127.0.0.1:9/',
      },
    });
    const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
    const list = async () =>
      (
        (await (await expectStatus(await fetch(`${agent.url}/spawner/getwindowslist`, { headers }), 'getwindowslist')).json()) as {
          data: Array<{ id: number }>;
        }
      ).data;
    try {
      for (let i = 0; i < windows; i++) apps.push(spawn('xmessage', [`window ${i}`], { env, stdio: 'ignore' }));
      await waitFor(`${windows} windows`, async () => (await list()).length >= windows, 20_000);
      const viaAgent = await timeEach(lists, list);
      const viaWmctrl = await timeEach(Math.ceil(lists / 3), () => run('wmctrl', ['-l'], { env }));

      const launch = await timeEach(launches, async () => {
        const before = (await list()).length;
        const reply = await fetch(`${agent.url}/spawner/launch`, {
          method: 'POST',
          headers,
          body: JSON.stringify({ command: 'xmessage.Xmessage', args: ['launched'] }),
        });
        // a refused launch is a failure of the bench, never a wait for a window that cannot come
        if (reply.status !== 200) throw new Error(`launch answered ${reply.status}: ${await reply.text()}`);
        await waitFor('listed', async () => (await list()).length > before, 10_000, 2);
      });
      const direct = await timeEach(launches, async () => {
        const before = (await list()).length;
        apps.push(spawn('xmessage', ['direct'], { env, stdio: 'ignore' }));
        await waitFor('listed', async () => (await list()).length > before, 10_000, 2);
      });
      return [
        {
          measure: `list ${windows} windows, p50`,
          unit: 'ms',
          value: percentile(viaAgent, 50),
          reference: { name: 'wmctrl -l exec', value: percentile(viaWmctrl, 50) },
          better: 'lower',
          target: { ratio: { max: 0.2 } },
        },
        {
          measure: 'launch to window listed, p50',
          unit: 'ms',
          value: percentile(launch, 50),
          reference: { name: 'app spawned directly', value: percentile(direct, 50) },
          better: 'lower',
        },
      ];
    } finally {
      await agent.stop();
      for (const app of apps) app.kill();
      await x.stop();
      rmSync(home, { recursive: true, force: true });
    }
  },
};

export default suite;
