// Attacks on single agents' own mechanisms: the bus (forged agent events, deep frames), the terminal (typing into a
// program that never reads), the printer folder (WATCHDIR unset = home), all against the real built agents.
import { mkdir, readFile, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  makeRunDir,
  processAlive,
  rssMiB,
  startAgent,
  startAgentsInOneProcess,
  startPulse,
  waitFor,
  type PulseServer,
  type RunningAgent,
} from '@desktop-agents/tools/harness';
import { auth, sleep, TOKEN, tokenEnv } from './helpers.js';

const COOKIE = 'security-suite-cookie';

interface BusClient {
  ws: WebSocket;
  frames: Array<{ method: string; data?: unknown }>;
  raw: string[];
}

async function busClient(port: number, headers: Record<string, string> = {}): Promise<BusClient> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/broadcast?jwt_token=${TOKEN}`, { headers });
  const client: BusClient = { ws, frames: [], raw: [] };
  ws.on('message', (data) => {
    client.raw.push(data.toString());
    client.frames.push(JSON.parse(data.toString()) as { method: string; data?: unknown });
  });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  return client;
}

describe('broadcast: what a browser may publish', () => {
  let bus: RunningAgent;
  beforeAll(async () => {
    bus = await startAgent('broadcast', { env: { ...tokenEnv, BROADCAST_COOKIE: COOKIE } });
  });
  afterAll(async () => bus?.stop());

  it('refuses agent events from a browser with an error frame, and relays them from a local service', async () => {
    const watcher = await busClient(bus.port);
    const forger = await busClient(bus.port);
    const agent = await busClient(bus.port, { broadcast_cookie: COOKIE });
    for (const method of [
      'printer.new',
      'window.list',
      'proc.killed',
      'proc.started',
      'speaker.available',
      'printer.available',
      'display.setBackgroundBorderColor',
    ]) {
      forger.ws.send(JSON.stringify({ method, data: { path: 'evil.pdf' } }));
    }
    await waitFor('seven refusals', async () => forger.frames.filter((f) => f.method === 'error').length === 7);
    expect(forger.frames.find((f) => f.method === 'error')?.data).toEqual({
      code: 'FORBIDDEN_METHOD',
      method: 'printer.new',
      message: 'only a local service of the pod may send this event',
    });
    agent.ws.send(JSON.stringify({ method: 'printer.new', data: { path: 'real.pdf' } }));
    await waitFor('the real event', async () => watcher.frames.some((f) => f.method === 'printer.new'));
    expect(watcher.frames.filter((f) => f.method === 'printer.new').map((f) => f.data)).toEqual([{ path: 'real.pdf' }]);
    expect(forger.ws.readyState).toBe(WebSocket.OPEN);
    for (const c of [watcher, forger, agent]) c.ws.close();
  });

  it('drops what is nested past the stripping bound instead of relaying a credential hidden there', async () => {
    const watcher = await busClient(bus.port);
    const sender = await busClient(bus.port);
    let deep: Record<string, unknown> = { jwt_token: 'deep-secret-jwt', password: 'p' };
    for (let i = 0; i < 30; i++) deep = { level: deep };
    sender.ws.send(JSON.stringify({ method: 'hello', data: deep, user: { token: 'shallow-secret' } }));
    await waitFor('hello', async () => watcher.frames.some((f) => f.method === 'hello'));
    const relayed = watcher.raw.find((r) => r.includes('"hello"')) ?? '';
    expect(relayed).not.toContain('deep-secret-jwt');
    expect(relayed).not.toContain('shallow-secret');
    for (const c of [watcher, sender]) c.ws.close();
  });

  it("strips credentials by the kit's rule (any case or separator) and the pod's own secrets wherever they appear", async () => {
    const watcher = await busClient(bus.port);
    const sender = await busClient(bus.port);
    sender.ws.send(
      JSON.stringify({
        method: 'hello',
        user: { name: 'alice', accessToken: 'leak-1', id_token: 'leak-2', 'X-Auth-Token': 'leak-3', clientSecret: 'leak-4', Cookie: 'leak-5' },
        data: { note: TOKEN, list: ['kept', `Bearer ${TOKEN}`, COOKIE], session: { refresh_token: 'leak-6', ok: true } },
      }),
    );
    await waitFor('hello', async () => watcher.frames.some((f) => f.method === 'hello'));
    const relayed = watcher.raw.find((r) => r.includes('"hello"')) ?? '';
    for (const leak of ['leak-1', 'leak-2', 'leak-3', 'leak-4', 'leak-5', 'leak-6', TOKEN, COOKIE]) expect(relayed, leak).not.toContain(leak);
    const hello = JSON.parse(relayed) as { user: unknown; data: unknown };
    expect(hello.user).toEqual({ name: 'alice' });
    expect(hello.data).toEqual({ list: ['kept', null, null], session: { ok: true } });
    for (const c of [watcher, sender]) c.ws.close();
  });
});

describe('webshell: typing into a program that does not read', () => {
  let shell: RunningAgent;
  beforeAll(async () => {
    shell = await startAgent('webshell', { env: { ...tokenEnv, WEBSHELL_SHELL: '/bin/sh' } });
  });
  afterAll(async () => shell?.stop());

  it('bounds what it holds for the pty: typing into `sleep` as fast as TCP allows grows the agent by far less', async () => {
    const res = await fetch(`${shell.url}/terminals?cols=80&rows=24`, { method: 'POST', headers: auth });
    const pid = (await res.json()) as number;
    const ws = new WebSocket(`ws://127.0.0.1:${shell.port}/terminals/${pid}?${TOKEN}`);
    await new Promise((resolve) => ws.once('open', resolve));
    ws.send('exec sleep 1000\r');
    await sleep(300);
    const before = rssMiB(shell.process.pid);
    const chunk = 'x'.repeat(60 * 1024);
    let sent = 0;
    const deadline = Date.now() + 8000;
    // the client writes as fast as its socket takes it; a paused server socket stops it through TCP
    while (sent < 128 * 1024 * 1024 && Date.now() < deadline) {
      if (ws.bufferedAmount > 8 * 1024 * 1024) {
        await sleep(20);
        continue;
      }
      ws.send(chunk);
      sent += chunk.length;
    }
    await sleep(500);
    const growth = rssMiB(shell.process.pid) - before;
    // the client got well past the bound before TCP stopped it
    expect(sent).toBeGreaterThan(4 * 1024 * 1024);
    expect(processAlive(shell.process.pid)).toBe(true);
    expect(growth).toBeLessThan(48);
    expect((await shell.get('/healthz')).status).toBe(200);
    ws.terminate();
  });
});

describe('printerfile with WATCHDIR unset (home)', () => {
  let run: { dir: string; remove: () => Promise<void> };
  let home: string;
  let printer: RunningAgent;
  let bus: RunningAgent;
  let listener: BusClient;
  beforeAll(async () => {
    run = await makeRunDir('security-printer');
    home = join(run.dir, 'home');
    await mkdir(home, { recursive: true });
    const old = new Date(Date.now() - 3 * 24 * 3600 * 1000);
    for (const name of ['.bashrc', '.profile', 'thesis.odt', 'old-invoice.pdf']) {
      await writeFile(join(home, name), `${name} content`);
      await utimes(join(home, name), old, old);
    }
    bus = await startAgent('broadcast', { env: { ...tokenEnv, BROADCAST_COOKIE: COOKIE } });
    listener = await busClient(bus.port);
    printer = await startAgent('printerfile', {
      awaitReady: false,
      env: {
        ...tokenEnv,
        HOME: home,
        BROADCAST_COOKIE: COOKIE,
        BROADCAST_SERVICE_TCP_PORT: String(bus.port),
        PRINTERFILE_PURGE_INTERVAL_MS: '200',
        PRINTERFILE_SETTLE_MS: '100',
        CUPS_SERVER: '127.0.0.1:9',
      },
    });
  });
  afterAll(async () => {
    listener?.ws.close();
    await printer?.stop();
    await bus?.stop();
    await run?.remove();
  });

  it("deletes none of the user's files and announces only PDFs", async () => {
    await writeFile(join(home, 'notes.txt'), 'not printed');
    await writeFile(join(home, 'job-1.pdf'), '%PDF-1.4 printed');
    await waitFor('printer.new', async () => listener.frames.some((f) => f.method === 'printer.new'), 10_000);
    await sleep(1000);
    for (const name of ['.bashrc', '.profile', 'thesis.odt', 'old-invoice.pdf']) expect(await readFile(join(home, name), 'utf8')).toBe(`${name} content`);
    const announced = listener.frames.filter((f) => f.method === 'printer.new').map((f) => (f.data as { path: string }).path);
    expect(announced).toEqual(['job-1.pdf']);
  });
});

/** A frame as cheap to send as it is costly to handle: a million keys in ~11 MiB. */
function millionKeys(): string {
  const parts = ['{"method":"hello","data":{'];
  for (let i = 0; i < 1_000_000; i++) parts.push(`${i ? ',' : ''}"${i.toString(36)}":0`);
  parts.push('}}');
  return parts.join('');
}

/** The slowest /healthz answer of these agents while `during` runs (polled every 20 ms). */
async function slowestHealth(agents: RunningAgent[], during: () => Promise<void>): Promise<number> {
  let slowest = 0;
  let running = true;
  const poll = (async () => {
    while (running) {
      for (const agent of agents) {
        const started = performance.now();
        await agent.get('/healthz');
        slowest = Math.max(slowest, performance.now() - started);
      }
      await sleep(20);
    }
  })();
  try {
    await during();
    await sleep(300);
  } finally {
    running = false;
    await poll;
  }
  return slowest;
}

describe("broadcast: a frame's cost bounded, not only its bytes", () => {
  let pulse: PulseServer;
  let run: { dir: string; remove: () => Promise<void> };
  let agents: RunningAgent[] = [];
  beforeAll(async () => {
    pulse = await startPulse();
    run = await makeRunDir('security-frame-cost');
    await mkdir(join(run.dir, 'home'), { recursive: true });
    // every agent but the spawner (no X here) in one process, the bus among them
    // (no cupsd either: printerfile is alive but not ready, which is all these attacks need)
    agents = await startAgentsInOneProcess(['broadcast', 'webshell', 'filer', 'printerfile', 'sound'], {
      awaitReady: false,
      env: {
        ...tokenEnv,
        BROADCAST_COOKIE: COOKIE,
        HOME: join(run.dir, 'home'),
        WATCHDIR: join(run.dir, 'home'),
        PULSE_SERVER: `unix:${pulse.socket}`,
        WEBSHELL_SHELL: '/bin/sh',
      },
    });
  }, 60_000);
  afterAll(async () => {
    await Promise.all(agents.map((a) => a.stop()));
    await pulse?.stop();
    await run?.remove();
  });

  it('closes a client sending a million keys with 1009 and the reason, and every agent of the process keeps answering within 100 ms', async () => {
    const bus = agents.find((a) => a.name === 'broadcast')!;
    const frame = millionKeys();
    expect(frame.length).toBeLessThan(12 * 1024 * 1024);
    const closes: Array<{ code: number; reason: string }> = [];
    const started = performance.now();
    const slowest = await slowestHealth(agents, async () => {
      for (let i = 0; i < 5; i++) {
        const sender = await busClient(bus.port);
        const closed = new Promise<void>((resolve) =>
          sender.ws.once('close', (code, reason) => resolve(void closes.push({ code, reason: reason.toString() }))),
        );
        sender.ws.send(frame);
        await closed;
      }
    });
    expect(closes).toEqual(Array.from({ length: 5 }, () => ({ code: 1009, reason: 'frame has more than 10000 keys' })));
    // what the machine itself costs in as long with no frame (other test files run beside this one on 2 cores: a
    // slowest answer of 143 ms was seen once that way): the 100 ms bound is on what the frames add to it
    const elapsed = performance.now() - started;
    const quiet = await slowestHealth(agents, () => new Promise((resolve) => setTimeout(resolve, elapsed)));
    expect(slowest, `slowest /healthz while the frames arrived (ms), ${quiet.toFixed(0)} ms without them`).toBeLessThan(100 + quiet);
    for (const agent of agents) expect(processAlive(agent.process.pid)).toBe(true);
  });

  it('refuses frames nested too deep or with too long an array the same way', async () => {
    const bus = agents.find((a) => a.name === 'broadcast')!;
    for (const [frame, reason] of [
      [`{"method":"hello","data":${'['.repeat(40)}${']'.repeat(40)}}`, 'frame nests deeper than 32'],
      [JSON.stringify({ method: 'hello', data: Array.from({ length: 20_000 }, () => 0) }), 'frame has an array longer than 10000'],
    ] as const) {
      const sender = await busClient(bus.port);
      const closed = new Promise<{ code: number; reason: string }>((resolve) =>
        sender.ws.once('close', (code, why) => resolve({ code, reason: why.toString() })),
      );
      sender.ws.send(frame);
      expect(await closed).toEqual({ code: 1009, reason });
    }
  });
});

describe('broadcast: agents are not knocked off the bus by frames they would not take', () => {
  let pulse: PulseServer;
  let run: { dir: string; remove: () => Promise<void> };
  const agents: RunningAgent[] = [];
  beforeAll(async () => {
    pulse = await startPulse();
    run = await makeRunDir('security-bus-bound');
    const env = { ...tokenEnv, BROADCAST_COOKIE: COOKIE, HOME: run.dir, WATCHDIR: run.dir, PULSE_SERVER: `unix:${pulse.socket}` };
    const bus = await startAgent('broadcast', { env });
    agents.push(bus);
    // printerfile and sound take 64 KiB frames: each its own process, on the bus over a WebSocket
    for (const name of ['printerfile', 'sound'])
      agents.push(await startAgent(name, { env: { ...env, BROADCAST_SERVICE_URL: `ws://127.0.0.1:${bus.port}/` }, awaitReady: false }));
  }, 60_000);
  afterAll(async () => {
    await Promise.all(agents.map((a) => a.stop()));
    await pulse?.stop();
    await run?.remove();
  });

  it('keeps them connected when a browser sends a 4 MiB hello (the bus sends them nothing larger than they take)', async () => {
    const bus = agents[0]!;
    const stats = async () => (await (await fetch(`${bus.url}/stats`, { headers: auth })).json()) as { locals: number };
    await waitFor('both agents on the bus', async () => (await stats()).locals === 2);
    const browser = await busClient(bus.port);
    browser.ws.send(JSON.stringify({ method: 'hello', user: { name: 'alice', avatar: 'x'.repeat(4 * 1024 * 1024) } }));
    await waitFor('the hello relayed to the browser', async () => browser.frames.some((f) => f.method === 'hello'));
    await sleep(1000);
    expect((await stats()).locals).toBe(2);
    // no agent was closed for a frame too big (1009), on either side
    expect(bus.process.output).not.toMatch(/"local":true[^\n]*"code":1009/);
    for (const agent of agents.slice(1)) expect(agent.process.output, agent.name).not.toMatch(/bus (closed|disconnected)[^\n]*1009|"code":1009/);
    browser.ws.close();
  });
});
