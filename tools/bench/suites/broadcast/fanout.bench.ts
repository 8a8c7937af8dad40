// 1 publisher → 200 subscribers at 1,000 msg/s through the bus agent, beside the ws library's raw broadcast server
// loaded the same way in the same run; plus the agent's idle RSS.
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { rssMiB, startAgent, startProcess, waitFor } from '../../../harness/index.js';
import { percentile, type BenchResult, type BenchSuite } from '../../types.js';

const SUBSCRIBERS = 200;
const RATE = 1000;
const SECONDS = 5;
const TOKEN = 'bench-token-0123456789';

interface Run {
  p50: number;
  p99: number;
  delivered: number;
  expected: number;
  seconds: number;
}

async function open(url: string, headers: Record<string, string> = {}): Promise<WebSocket> {
  const ws = new WebSocket(url, { headers, perMessageDeflate: false, skipUTF8Validation: true });
  ws.on('error', () => {});
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  return ws;
}

/**
 * Subscribers share this process's one thread with the measuring, so most of them are raw TCP connections that only
 * drain and count bytes (cheap per read, not per frame); one in ten is a real ws client that times every frame.
 * Frames have a fixed length so bytes convert to frames.
 */
async function fanOut(url: string, port: number, path: string, publisherHeaders: Record<string, string>): Promise<Run> {
  const latencies: number[] = [];
  const timedCount = SUBSCRIBERS / 10;
  const timed = await Promise.all(Array.from({ length: timedCount }, () => open(url)));
  const drained = await Promise.all(Array.from({ length: SUBSCRIBERS - timedCount }, () => rawClient(port, path)));
  await sleep(300); // let the join counters pass before counting
  let bytes = 0;
  let timedFrames = 0;
  for (const socket of drained) socket.on('data', (chunk: Buffer) => (bytes += chunk.length));
  for (const ws of timed) {
    ws.on('message', (data: Buffer) => {
      const m = /"t":"([\d.]+)"/.exec(data.toString('latin1', 0, 64));
      if (!m) return;
      timedFrames += 1;
      latencies.push(performance.now() - Number(m[1]));
    });
  }
  const publisher = await open(url, publisherHeaders);
  const frame = (n: number) =>
    JSON.stringify({ method: 'window.list', data: { t: performance.now().toFixed(3).padStart(12, '0'), n: String(n).padStart(8, '0') } });
  const frameBytes = Buffer.byteLength(frame(0)) + 2; // + the 2-byte header of a short server frame
  const batch = RATE / 500; // 2 frames every 2 ms: a steady 1,000 msg/s, not bursts
  const total = RATE * SECONDS;
  const start = performance.now();
  for (let sent = 0; sent < total;) {
    for (let i = 0; i < batch; i++, sent++) publisher.send(frame(sent));
    const due = start + (sent / RATE) * 1000;
    await sleep(Math.max(0, due - performance.now()));
  }
  const expected = total * SUBSCRIBERS;
  const delivered = () => Math.floor(bytes / frameBytes) + timedFrames;
  await waitFor('deliveries', async () => delivered() >= expected, 10_000).catch(() => undefined);
  const elapsed = (performance.now() - start) / 1000;
  for (const ws of [...timed, publisher]) ws.terminate();
  for (const socket of drained) socket.destroy();
  latencies.sort((a, b) => a - b);
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99), delivered: delivered(), expected, seconds: elapsed };
}

async function rawClient(port: number, path: string): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => {});
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write(
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  await new Promise((resolve) => socket.once('data', resolve));
  return socket;
}

const suite: BenchSuite = {
  name: 'broadcast bus',
  async run(): Promise<BenchResult[]> {
    const rawScript = fileURLToPath(new URL('./raw-ws-fanout.js', import.meta.url));
    const raw = startProcess('raw ws', process.execPath, [rawScript]);
    const rawPort = await waitFor('raw ws port', async () => Number(raw.output.trim()) || undefined);
    const agent = await startAgent('broadcast', {
      env: { AUTH_TOKEN: TOKEN, BROADCAST_COOKIE: 'bench-cookie', LOG_LEVEL: 'warn', BROADCAST_KEEPALIVE_MS: '600000' },
    });
    try {
      await sleep(500);
      const idleAgent = rssMiB(agent.process.pid);
      const idleRaw = rssMiB(raw.pid);
      const reference = await fanOut(`ws://127.0.0.1:${rawPort}/`, rawPort, '/', {});
      const busPath = `/broadcast?jwt_token=${TOKEN}`;
      const bus = await fanOut(`ws://127.0.0.1:${agent.port}${busPath}`, agent.port, busPath, { broadcast_cookie: 'bench-cookie' });
      const ref = 'ws raw broadcast';
      const load = `${SUBSCRIBERS} clients, ${RATE} msg/s`;
      return [
        {
          measure: `deliveries/s, ${load}`,
          unit: 'msg/s',
          value: bus.delivered / bus.seconds,
          reference: { name: ref, value: reference.delivered / reference.seconds },
          better: 'higher',
        },
        {
          measure: `frames delivered, ${load}`,
          unit: '%',
          value: (100 * bus.delivered) / bus.expected,
          reference: { name: ref, value: (100 * reference.delivered) / reference.expected },
          better: 'higher',
          target: { value: { min: 100 } },
        },
        { measure: `p50 delivery latency, ${load}`, unit: 'ms', value: bus.p50, reference: { name: ref, value: reference.p50 }, better: 'lower' },
        {
          measure: `p99 delivery latency, ${load}`,
          unit: 'ms',
          value: bus.p99,
          reference: { name: ref, value: reference.p99 },
          better: 'lower',
          target: { value: { max: 10 } },
        },
        { measure: 'idle RSS', unit: 'MiB', value: idleAgent, reference: { name: ref, value: idleRaw }, better: 'lower', target: { value: { max: 60 } } },
      ];
    } finally {
      await agent.stop();
      await raw.stop();
    }
  },
};

export default suite;
