// One publisher → 200 subscribers through the bus agent, beside two references served the same way in the same run:
// ws's raw broadcast loop and the naive per-client relay (parse, stringify and send per client, as the original).
// Three loads: a window of 32 frames in flight (throughput), a window of 1 (unloaded latency), and 1,000 msg/s
// offered whatever comes back (delivered fraction and latency at the rate). Plus the agent's idle RSS.
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { performance } from 'node:perf_hooks';
import { rssMiB, startAgent, startProcess, waitFor, type ManagedProcess } from '../../../harness/index.js';
import { openSocket } from '../../clients.js';
import { percentile, type BenchResult, type BenchSuite } from '../../types.js';

/** The publisher's socket: no compression, no UTF-8 check of what the bus sends back (as the raw subscribers). */
const SOCKET_OPTIONS = { perMessageDeflate: false, skipUTF8Validation: true };

const SUBSCRIBERS = 200;
const TOKEN = 'bench-token-0123456789';
const COOKIE = 'bench-cookie';

interface Server {
  name: string;
  port: number;
  /** Where subscribers connect (a browser's path on the bus). */
  path: string;
  publisherHeaders: Record<string, string>;
}

type Load = { kind: 'window'; frames: number; window: number } | { kind: 'rate'; perSecond: number; seconds: number };

interface Run {
  /** Frames every subscriber received, per second. */
  framesPerSecond: number;
  /** Frame deliveries (frames × subscribers) per second. */
  deliveriesPerSecond: number;
  deliveredPercent: number;
  p50: number;
  p99: number;
}

/** A subscriber that only drains bytes: cheap per read, not per frame, so this process is not what is measured. */
async function rawSubscriber(port: number, path: string): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => {});
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write(
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  await new Promise((resolve) => socket.once('data', resolve));
  return socket;
}

/**
 * Frames have one fixed length, so a subscriber's byte count says how many frames it has, and each frame's delivery
 * time is when the read that completed it arrived: latencies of every delivery without parsing one.
 */
async function fanOut(server: Server, load: Load): Promise<Run> {
  const subscribers = await Promise.all(Array.from({ length: SUBSCRIBERS }, () => rawSubscriber(server.port, server.path)));
  const publisher = await openSocket(`ws://127.0.0.1:${server.port}${server.path}`, server.publisherHeaders, SOCKET_OPTIONS);
  await sleep(300); // the join counters pass before counting starts
  const frame = (n: number) => JSON.stringify({ method: 'window.list', data: { n: String(n).padStart(8, '0'), pad: 'x'.repeat(48) } });
  const frameBytes = Buffer.byteLength(frame(0)) + 2; // + the 2-byte header of a short server frame
  const total = load.kind === 'window' ? load.frames : load.perSecond * load.seconds;
  const sentAt = new Float64Array(total);
  const reached = new Uint16Array(total); // how many subscribers have frame n
  const latencies = new Float64Array(total * SUBSCRIBERS);
  let samples = 0;
  let sent = 0;
  let everywhere = 0; // frames every subscriber has
  let finished: (() => void) | undefined;
  const done = new Promise<void>((resolve) => (finished = resolve));
  const send = () => {
    sentAt[sent] = performance.now();
    publisher.send(frame(sent));
    sent += 1;
  };
  const refill = () => {
    if (load.kind === 'window') while (sent < total && sent < everywhere + load.window) send();
  };
  for (const socket of subscribers) {
    let bytes = 0;
    let frames = 0;
    socket.on('data', (chunk: Buffer) => {
      const now = performance.now();
      bytes += chunk.length;
      const complete = Math.min(total, Math.floor(bytes / frameBytes));
      for (; frames < complete; frames++) {
        latencies[samples++] = now - (sentAt[frames] ?? now);
        const having = (reached[frames] ?? 0) + 1;
        reached[frames] = having;
        if (having === SUBSCRIBERS) everywhere = frames + 1;
      }
      if (everywhere === total) finished?.();
      refill();
    });
  }
  const start = performance.now();
  if (load.kind === 'window') refill();
  else {
    const batch = load.perSecond / 500; // a steady rate in 2 ms steps, not bursts
    while (sent < total) {
      for (let i = 0; i < batch && sent < total; i++) send();
      await sleep(Math.max(0, start + (sent / load.perSecond) * 1000 - performance.now()));
    }
  }
  await Promise.race([done, sleep(load.kind === 'window' ? 60_000 : 10_000)]);
  const seconds = (performance.now() - start) / 1000;
  publisher.terminate();
  for (const socket of subscribers) socket.destroy();
  const sorted = Array.from(latencies.subarray(0, samples)).sort((a, b) => a - b);
  return {
    framesPerSecond: everywhere / seconds,
    deliveriesPerSecond: samples / seconds,
    deliveredPercent: (100 * samples) / (total * SUBSCRIBERS),
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
  };
}

async function startReference(name: string, script: string): Promise<{ server: Server; process: ManagedProcess }> {
  const child = startProcess(name, process.execPath, [fileURLToPath(new URL(script, import.meta.url))]);
  const port = await waitFor(`${name} port`, async () => Number(child.output.trim()) || undefined);
  return { server: { name, port, path: '/', publisherHeaders: {} }, process: child };
}

const FULL = { w32: 4000, w1: 400, seconds: 5 };
const QUICK = { w32: 400, w1: 40, seconds: 1 };

const suite: BenchSuite = {
  name: 'broadcast bus',
  async run({ quick }): Promise<BenchResult[]> {
    const size = quick ? QUICK : FULL;
    const WINDOW_32: Load = { kind: 'window', frames: size.w32, window: 32 };
    const WINDOW_1: Load = { kind: 'window', frames: size.w1, window: 1 };
    const OFFERED: Load = { kind: 'rate', perSecond: 1000, seconds: size.seconds };
    const raw = await startReference('ws raw broadcast', './raw-ws-fanout.js');
    const naive = await startReference('naive per-client send', './naive-fanout.js');
    const agent = await startAgent('broadcast', {
      env: { AUTH_TOKEN: TOKEN, BROADCAST_COOKIE: COOKIE, LOG_LEVEL: 'warn', BROADCAST_KEEPALIVE_MS: '600000', BROADCAST_HEARTBEAT_MS: '600000' },
    });
    const bus: Server = { name: 'bus', port: agent.port, path: `/broadcast?jwt_token=${TOKEN}`, publisherHeaders: { broadcast_cookie: COOKIE } };
    try {
      await sleep(500);
      const idleAgent = rssMiB(agent.process.pid);
      const idleRaw = rssMiB(raw.process.pid);
      // each load on each server in turn, so the machine's drift falls on all three alike
      const runs = new Map<string, Run>();
      for (const [label, load] of [
        ['w32', WINDOW_32],
        ['w1', WINDOW_1],
        ['rate', OFFERED],
      ] as const) {
        for (const server of [raw.server, naive.server, bus]) runs.set(`${label} ${server.name}`, await fanOut(server, load));
      }
      const run = (label: string, server: Server) => runs.get(`${label} ${server.name}`)!;
      const load = `${SUBSCRIBERS} clients`;
      const rows: BenchResult[] = [];
      for (const ref of [raw.server, naive.server]) {
        rows.push({
          measure: `messages/s to ${load}, window 32`,
          unit: 'msg/s',
          value: run('w32', bus).framesPerSecond,
          reference: { name: ref.name, value: run('w32', ref).framesPerSecond },
          better: 'higher',
          target: ref === raw.server ? { ratio: { min: 2 } } : undefined,
        });
      }
      for (const ref of [raw.server, naive.server]) {
        rows.push({
          measure: `messages/s to ${load}, window 1`,
          unit: 'msg/s',
          value: run('w1', bus).framesPerSecond,
          reference: { name: ref.name, value: run('w1', ref).framesPerSecond },
          better: 'higher',
        });
      }
      const unloaded = run('w1', raw.server);
      rows.push(
        {
          measure: `p50 latency unloaded (window 1), ${load}`,
          unit: 'ms',
          value: run('w1', bus).p50,
          reference: { name: raw.server.name, value: unloaded.p50 },
          better: 'lower',
        },
        {
          measure: `p99 latency unloaded (window 1), ${load}`,
          unit: 'ms',
          value: run('w1', bus).p99,
          reference: { name: raw.server.name, value: unloaded.p99 },
          better: 'lower',
          target: { value: { max: unloaded.p99 + 0.5 } },
        },
      );
      const offered = `${load}, 1000 msg/s offered`;
      const rated = run('rate', bus);
      const ratedRef = run('rate', raw.server);
      rows.push(
        {
          measure: `frames delivered, ${offered}`,
          unit: '%',
          value: rated.deliveredPercent,
          reference: { name: raw.server.name, value: ratedRef.deliveredPercent },
          better: 'higher',
          target: { value: { min: 100 } },
        },
        {
          measure: `deliveries/s, ${offered}`,
          unit: 'msg/s',
          value: rated.deliveriesPerSecond,
          reference: { name: raw.server.name, value: ratedRef.deliveriesPerSecond },
          better: 'higher',
        },
        { measure: `p50 latency, ${offered}`, unit: 'ms', value: rated.p50, reference: { name: raw.server.name, value: ratedRef.p50 }, better: 'lower' },
        {
          measure: `p99 latency, ${offered}`,
          unit: 'ms',
          value: rated.p99,
          reference: { name: raw.server.name, value: ratedRef.p99 },
          better: 'lower',
          target: { value: { max: 50 } },
        },
        {
          measure: 'idle RSS',
          unit: 'MiB',
          value: idleAgent,
          reference: { name: raw.server.name, value: idleRaw },
          better: 'lower',
          target: { value: { max: 60 } },
        },
      );
      return rows;
    } finally {
      await agent.stop();
      await raw.process.stop();
      await naive.process.stop();
    }
  },
};

export default suite;
