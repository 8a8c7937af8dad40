// A click played into the desktop sink, timed until it reaches a WebSocket listener of the agent, beside parec (pulse's
// own capture client) catching the same kind of click in the same run; and the agent's CPU for one live stream.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import { epochMs, peakOf, startAgent, startClickPlayer, startPulse, type PulseServer } from '../../../harness/index.js';
import { percentile, type BenchResult, type BenchSuite } from '../../types.js';

const TOKEN = 'bench-token-0123456789';
const RATE = 24000;
const CLICKS = 8;

async function measure(pulse: PulseServer, subscribe: (onData: (data: Buffer) => void) => Promise<() => void>): Promise<number[]> {
  const latencies: number[] = [];
  let pending: number | undefined;
  const stop = await subscribe((data) => {
    if (pending !== undefined && peakOf(data) > 20000) {
      latencies.push(epochMs() - pending);
      pending = undefined;
    }
  });
  const player = await startClickPlayer(pulse, RATE);
  for (let n = 0; n < CLICKS; n++) pending = await player.click(300);
  await sleep(300);
  player.stop();
  stop();
  return latencies.sort((a, b) => a - b);
}

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

const suite: BenchSuite = {
  name: 'sound',
  async run({ quick }): Promise<BenchResult[]> {
    const cpuSecondsWindow = quick ? 1 : 5;
    const pulse = await startPulse();
    const agent = await startAgent('sound', {
      env: { AUTH_TOKEN: TOKEN, PULSE_SERVER: pulse.server, SOUND_RATE: String(RATE), LOG_LEVEL: 'warn', BROADCAST_SERVICE_URL: 'ws://127.0.0.1:9/' },
    });
    try {
      const viaParec = await measure(pulse, async (onData) => {
        const parec = spawn('parec', [`--device=${pulse.sink}.monitor`, '--format=s16le', `--rate=${RATE}`, '--channels=1', '--raw', '--latency-msec=10'], {
          env: { ...process.env, ...pulse.env },
        });
        parec.stdout.on('data', onData);
        await sleep(1500); // a new capture of an idle monitor starts late; let it settle
        return () => parec.kill();
      });
      let ws: WebSocket | undefined;
      const viaAgent = await measure(pulse, async (onData) => {
        ws = new WebSocket(`ws://127.0.0.1:${agent.port}/sound/listen?jwt_token=${TOKEN}`);
        ws.on('message', (data: Buffer, isBinary) => isBinary && onData(data));
        await new Promise((resolve) => ws?.once('open', resolve));
        return () => undefined;
      });
      // CPU of the agent over 5 s (1 quick) with no listener (the latency step's closed first), against 5 s of one live stream
      await new Promise<void>((resolve) => {
        if (!ws || ws.readyState === WebSocket.CLOSED) return resolve();
        ws.once('close', () => resolve());
        ws.close();
      });
      await sleep(500);
      const idle0 = cpuSeconds(agent.process.pid);
      await sleep(cpuSecondsWindow * 1000);
      const idle = cpuSeconds(agent.process.pid) - idle0;
      const listener = new WebSocket(`ws://127.0.0.1:${agent.port}/sound/listen?jwt_token=${TOKEN}`);
      await new Promise((resolve, reject) => listener.once('open', resolve).once('error', reject));
      const play = await startClickPlayer(pulse, RATE);
      const busy0 = cpuSeconds(agent.process.pid);
      await sleep(cpuSecondsWindow * 1000);
      const busy = cpuSeconds(agent.process.pid) - busy0;
      play.stop();
      listener.close();
      return [
        {
          measure: `click to listener, p50 of ${viaAgent.length}`,
          unit: 'ms',
          value: percentile(viaAgent, 50),
          reference: { name: 'parec', value: percentile(viaParec, 50) },
          better: 'lower',
          target: { value: { max: 60 } },
        },
        {
          measure: `click to listener, max of ${viaAgent.length}`,
          unit: 'ms',
          value: viaAgent.at(-1) ?? Number.NaN,
          reference: { name: 'parec', value: viaParec.at(-1) ?? Number.NaN },
          better: 'lower',
        },
        {
          measure: 'agent CPU, one live stream',
          unit: '% of a core',
          value: (busy / cpuSecondsWindow) * 100,
          reference: { name: 'agent, no listener', value: Math.max(0.01, (idle / cpuSecondsWindow) * 100) },
          better: 'lower',
        },
      ];
    } finally {
      await agent.stop();
      await pulse.stop();
    }
  },
};

export default suite;
