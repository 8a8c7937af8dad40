// Terminal throughput (cat of 256 MiB) and keystroke echo through the agent (pty → WebSocket → client), beside a
// raw node-pty loop in this process doing the same work in the same run.
import { mkdtempSync, rmSync, writeFileSync, openSync, closeSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pty from 'node-pty';
import WebSocket from 'ws';
import { startAgent } from '../../../harness/index.js';
import { expectStatus, percentile, type BenchResult, type BenchSuite } from '../../types.js';

const TOKEN = 'bench-token-0123456789';
const FULL = { bytes: 256 * 1024 * 1024, keystrokes: 300 };
const QUICK = { bytes: 16 * 1024 * 1024, keystrokes: 30 };
let { bytes: SIZE, keystrokes: KEYSTROKES } = FULL;

function makeFile(dir: string): string {
  const file = join(dir, 'big.txt');
  const line = `${'x'.repeat(79)}\n`;
  const block = Buffer.from(line.repeat(Math.floor((1024 * 1024) / line.length)));
  const fd = openSync(file, 'w');
  for (let written = 0; written < SIZE; written += block.length) writeSync(fd, block);
  closeSync(fd);
  return file;
}

async function rawCat(file: string): Promise<number> {
  const start = performance.now();
  const p = pty.spawn('cat', [file], { cols: 120, rows: 40 });
  let bytes = 0;
  p.onData((d) => (bytes += d.length));
  await new Promise((resolve) => p.onExit(resolve));
  return bytes / 1048576 / ((performance.now() - start) / 1000);
}

async function rawEcho(): Promise<number[]> {
  const p = pty.spawn('cat', [], { cols: 120, rows: 40 });
  const times = await echoLoop(
    (s) => p.write(s),
    (cb) => p.onData(cb),
  );
  p.kill();
  return times;
}

async function echoLoop(send: (s: string) => void, onData: (cb: (d: string) => void) => void): Promise<number[]> {
  let waiting: ((d: string) => void) | undefined;
  onData((d) => waiting?.(d));
  const times: number[] = [];
  for (let i = 0; i < KEYSTROKES; i++) {
    const ch = String.fromCharCode(97 + (i % 26));
    const t0 = performance.now();
    await new Promise<void>((resolve) => {
      waiting = (d) => {
        if (d.includes(ch)) resolve();
      };
      send(ch);
    });
    times.push(performance.now() - t0);
  }
  return times.sort((a, b) => a - b);
}

async function agentTerminal(url: string, port: number): Promise<{ ws: WebSocket; onData: (cb: (d: string) => void) => void; closed: Promise<void> }> {
  const res = await expectStatus(
    await fetch(`${url}/terminals?cols=120&rows=40`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } }),
    'a new terminal',
  );
  const pid = (await res.json()) as number;
  const ws = new WebSocket(`ws://127.0.0.1:${port}/terminals/${pid}?${TOKEN}`, { perMessageDeflate: false });
  const listeners: Array<(d: string) => void> = [];
  // kept until a listener comes: the shell's first output can arrive with the upgrade's reply, before 'open' resolves
  const early: string[] = [];
  ws.on('message', (data: Buffer) => {
    const text = data.toString();
    if (listeners.length === 0) early.push(text);
    for (const l of listeners) l(text);
  });
  const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
  await new Promise((resolve) => ws.once('open', resolve));
  const onData = (cb: (d: string) => void) => {
    listeners.push(cb);
    for (const text of early.splice(0)) cb(text);
  };
  return { ws, onData, closed };
}

const suite: BenchSuite = {
  name: 'webshell',
  async run({ quick }): Promise<BenchResult[]> {
    ({ bytes: SIZE, keystrokes: KEYSTROKES } = quick ? QUICK : FULL);
    const dir = mkdtempSync(join(tmpdir(), 'webshell-bench-'));
    writeFileSync(join(dir, '.bashrc'), 'PS1="$ "\n');
    const file = makeFile(dir);
    const agent = await startAgent('webshell', { env: { AUTH_TOKEN: TOKEN, HOME: dir, WEBSHELL_SHELL: '/bin/bash', LOG_LEVEL: 'warn' } });
    try {
      const rawRate = await rawCat(file);
      const t = await agentTerminal(agent.url, agent.port);
      let bytes = 0;
      let ready: () => void = () => {};
      const prompt = new Promise<void>((resolve) => (ready = resolve));
      t.onData((d) => {
        bytes += d.length;
        if (d.includes('$ ')) ready();
      });
      await prompt;
      const start = performance.now();
      bytes = 0;
      t.ws.send(`exec cat ${file}\r`);
      await t.closed;
      const agentRate = bytes / 1048576 / ((performance.now() - start) / 1000);

      const rawTimes = await rawEcho();
      const e = await agentTerminal(agent.url, agent.port);
      let promptSeen: () => void = () => {};
      const eprompt = new Promise<void>((resolve) => (promptSeen = resolve));
      e.onData((d) => d.includes('$ ') && promptSeen());
      await eprompt;
      e.ws.send('exec cat\r');
      await new Promise((r) => setTimeout(r, 300));
      const agentTimes = await echoLoop((s) => e.ws.send(s), e.onData);
      e.ws.close();
      const ref = 'raw node-pty loop';
      return [
        {
          measure: `cat ${SIZE / 1048576} MiB through the terminal`,
          unit: 'MiB/s',
          value: agentRate,
          reference: { name: ref, value: rawRate },
          better: 'higher',
          target: { ratio: { min: 0.8 } },
        },
        {
          measure: 'keystroke echo p50',
          unit: 'ms',
          value: percentile(agentTimes, 50),
          reference: { name: ref, value: percentile(rawTimes, 50) },
          better: 'lower',
        },
        {
          measure: 'keystroke echo p99',
          unit: 'ms',
          value: percentile(agentTimes, 99),
          reference: { name: ref, value: percentile(rawTimes, 99) },
          better: 'lower',
          target: { value: { max: percentile(rawTimes, 99) + 2 } },
        },
      ];
    } finally {
      await agent.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

export default suite;
