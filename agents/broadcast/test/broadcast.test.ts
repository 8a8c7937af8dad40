import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import { startAgent, waitFor, type RunningAgent } from '@desktop-agents/tools/harness';
import { connectClient, rawClient, type TestClient } from './clients.js';

const TOKEN = 'broadcast-test-token-42';
const COOKIE = 'local-agent-cookie';
const settings = {
  AUTH_TOKEN: TOKEN,
  BROADCAST_COOKIE: COOKIE,
  BROADCAST_KEEPALIVE_MS: '300',
  BROADCAST_HEARTBEAT_MS: '250',
  BROADCAST_MAX_FRAME_BYTES: '65536',
  BROADCAST_MAX_BUFFERED_BYTES: '262144',
  BROADCAST_STALL_TIMEOUT_MS: '1000',
  LOG_LEVEL: 'info',
};

let bus: RunningAgent;
const open: TestClient[] = [];
const browserUrl = () => `ws://127.0.0.1:${bus.port}/broadcast?jwt_token=${TOKEN}`;
const localUrl = () => `ws://127.0.0.1:${bus.port}/`;

async function browser(): Promise<TestClient> {
  const c = await connectClient(browserUrl());
  open.push(c);
  return c;
}
async function local(): Promise<TestClient> {
  const c = await connectClient(localUrl(), { broadcast_cookie: COOKIE });
  open.push(c);
  return c;
}
async function stats(): Promise<{ browsers: number; locals: number; shed: number; dropped: number }> {
  return (await bus.get('/stats', { authorization: `Bearer ${TOKEN}` })).body as { browsers: number; locals: number; shed: number; dropped: number };
}

beforeAll(async () => {
  bus = await startAgent('broadcast', { env: settings });
});
afterEach(async () => {
  for (const c of open.splice(0)) c.ws.terminate();
  await waitFor('clients gone', async () => {
    const s = await stats();
    return s.browsers + s.locals === 0;
  });
});
afterAll(async () => {
  await bus?.stop();
});

describe('relaying', () => {
  it('relays broadcast methods to every client, the sender included, as text frames', async () => {
    const clients = await Promise.all(Array.from({ length: 20 }, () => browser()));
    const agent = await local();
    agent.ws.send(JSON.stringify({ method: 'window.list', data: [{ id: 1, title: 'xterm' }], extra: 'kept' }));
    for (const c of [...clients, agent]) {
      expect(await c.next('window.list')).toEqual({ method: 'window.list', data: [{ id: 1, title: 'xterm' }], extra: 'kept' });
    }
    agent.ws.send(JSON.stringify({ method: 'printer.new', data: { path: '/x.pdf' } }));
    for (const c of [...clients, agent]) expect((await c.next('printer.new')).data).toEqual({ path: '/x.pdf' });
    clients[3]?.ws.send(JSON.stringify({ method: 'hello', data: 'hi' }));
    for (const c of [...clients, agent]) expect((await c.next('hello')).data).toBe('hi');
  });

  it('strips credentials from relayed frames (the browser hello carries its JWT)', async () => {
    const [a, b] = [await browser(), await browser()];
    a.ws.send(JSON.stringify({ method: 'hello', user: { name: 'alice', jwt_token: 'secret-jwt', token: 't' }, data: { authorization: 'Bearer x', ok: 1 } }));
    expect(await b.next('hello')).toEqual({ method: 'hello', user: { name: 'alice' }, data: { ok: 1 } });
  });

  it('delivers unicast methods to exactly one browser: the most recently active one other than the sender', async () => {
    const older = await browser();
    const newer = await browser();
    const agent = await local();
    const other = await local();
    agent.ws.send(JSON.stringify({ method: 'ocrun', data: { app: 'xterm' } }));
    expect((await newer.next('ocrun')).data).toEqual({ app: 'xterm' });
    await sleep(100);
    const counters = older.count('connect.counter');
    older.ws.send(JSON.stringify({ method: 'connect.counter' }));
    await waitFor('older made active', async () => older.count('connect.counter') > counters);
    agent.ws.send(JSON.stringify({ method: 'download', data: { file: 'a.pdf' } }));
    expect((await older.next('download')).data).toEqual({ file: 'a.pdf' });
    await sleep(200);
    expect(older.count('ocrun') + newer.count('ocrun') + agent.count('ocrun') + other.count('ocrun')).toBe(1);
    expect(older.count('download') + newer.count('download') + agent.count('download') + other.count('download')).toBe(1);
  });

  it("relays a browser's request to the agents only, stamped with its sender, and the agent's answer to that browser alone", async () => {
    const [asking, other] = [await browser(), await browser()];
    const [spawner, printer] = [await local(), await local()];
    asking.ws.send(JSON.stringify({ method: 'clipboard.set', data: { mime: 'text/plain', text: 'hi', token: 'stripped' } }));
    const relayed = await spawner.next('clipboard.set');
    expect(relayed).toMatchObject({ method: 'clipboard.set', data: { mime: 'text/plain', text: 'hi' } });
    expect(relayed.data).not.toHaveProperty('token');
    expect((await printer.next('clipboard.set')).sender).toBe(relayed.sender);
    const sender = relayed.sender as number;
    spawner.ws.send(JSON.stringify({ method: 'error', to: sender, data: { code: 'CLIPBOARD_REFUSED', message: 'too big' } }));
    expect(await asking.next('error')).toEqual({ method: 'error', data: { code: 'CLIPBOARD_REFUSED', message: 'too big' } });
    // a browser may not address another: its error frame with `to` goes nowhere
    asking.ws.send(JSON.stringify({ method: 'error', to: sender, data: { code: 'FAKE', message: 'x' } }));
    await sleep(200);
    expect(other.count('clipboard.set') + other.count('error')).toBe(0);
    expect(asking.count('error')).toBe(1);
  });

  it('tells the sender when a unicast frame has no browser to go to', async () => {
    const agent = await local();
    agent.ws.send(JSON.stringify({ method: 'logout' }));
    expect(await agent.next('error')).toEqual({
      method: 'error',
      data: { code: 'NO_RECIPIENT', method: 'logout', message: 'no browser connected to receive it' },
    });
  });
});

describe('connect.counter', () => {
  it('counts browsers (not local agents) on join and leave, and answers a request to all', async () => {
    const agent = await local();
    const a = await browser();
    expect((await agent.next('connect.counter')).data).toBe(1);
    const b = await browser();
    expect((await a.next('connect.counter')).data).toBe(1);
    expect((await a.next('connect.counter')).data).toBe(2);
    await local();
    b.ws.close();
    expect((await a.next('connect.counter')).data).toBe(1);
    agent.ws.send(JSON.stringify({ method: 'connect.counter' }));
    expect((await a.next('connect.counter')).data).toBe(1);
    expect(agent.count('connect.counter')).toBeGreaterThanOrEqual(3);
  });
});

describe('keepalive and heartbeat', () => {
  it('sends keepalive to every client at the configured period, with the date in ms as a string', async () => {
    const c = await browser();
    const first = await c.next('keepalive', 2000);
    const second = await c.next('keepalive', 2000);
    const [d1, d2] = [first, second].map((m) => Number((m.data as { date: string }).date));
    expect(typeof (first.data as { date: unknown }).date).toBe('string');
    expect(d2! - d1!).toBeGreaterThanOrEqual(250);
    expect(d2! - d1!).toBeLessThan(1000);
  });

  it('drops a peer that never answers pings', async () => {
    const dead = await rawClient(bus.port, `/broadcast?jwt_token=${TOKEN}`);
    await waitFor('raw client counted', async () => (await stats()).browsers === 1);
    const started = Date.now();
    await dead.closed;
    expect(Date.now() - started).toBeLessThan(3000);
    await waitFor('dead peer removed', async () => (await stats()).browsers === 0);
  });
});

describe('bad input', () => {
  const cases: Array<[string, string | Buffer, number, string]> = [
    ['non-JSON', 'hello there', 1003, 'frame is not JSON'],
    ['JSON null', 'null', 1003, 'frame is not a JSON object'],
    ['a JSON array', '[1,2]', 1003, 'frame is not a JSON object'],
    ['no method', '{"data":1}', 1003, 'frame has no method'],
    ['a non-string method', '{"method":7}', 1003, 'frame has no method'],
    ['a frame over the size limit', JSON.stringify({ method: 'window.list', data: 'x'.repeat(70_000) }), 1009, ''],
  ];
  for (const [what, frame, code, reason] of cases) {
    it(`closes a client that sends ${what} with ${code}, relays nothing, and keeps serving`, async () => {
      const watcher = await browser();
      const bad = await browser();
      bad.ws.send(frame);
      const closed = await bad.closed;
      expect(closed.code).toBe(code);
      if (reason) expect(closed.reason).toBe(reason);
      await sleep(100);
      expect(watcher.messages.filter((m) => m.method !== 'keepalive' && m.method !== 'connect.counter')).toEqual([]);
      expect((await bus.get('/readyz')).status).toBe(200);
    });
  }

  it('ignores unknown methods without relaying them or closing the sender', async () => {
    const watcher = await browser();
    const sender = await browser();
    sender.ws.send(JSON.stringify({ method: 'rm.everything', data: 1 }));
    sender.ws.send(JSON.stringify({ method: 'hello', data: [] }));
    await watcher.next('hello');
    expect(watcher.count('rm.everything')).toBe(0);
    expect(sender.ws.readyState).toBe(sender.ws.OPEN);
  });
});

describe('auth', () => {
  it('closes callers without a valid token with 1008, and accepts the token in the query or a header', async () => {
    for (const url of [`ws://127.0.0.1:${bus.port}/broadcast`, `ws://127.0.0.1:${bus.port}/broadcast?jwt_token=wrong-token-wrong`]) {
      const refused = await connectClient(url);
      expect(await refused.closed).toEqual({ code: 1008, reason: 'unauthorized' });
    }
    const wrongCookie = await connectClient(localUrl(), { broadcast_cookie: 'not-it' });
    expect((await wrongCookie.closed).code).toBe(1008);
    const viaHeader = await connectClient(`ws://127.0.0.1:${bus.port}/`, { authorization: `Bearer ${TOKEN}` });
    open.push(viaHeader);
    expect((await viaHeader.next('connect.counter')).data).toBe(1);
  });

  it('requires the token on HTTP routes too, but not on the probes', async () => {
    expect((await bus.get('/stats')).status).toBe(401);
    expect((await bus.get('/healthz')).status).toBe(200);
  });

  it('never logs the token or the cookie', () => {
    expect(bus.process.output).not.toContain(TOKEN);
    expect(bus.process.output).not.toContain(COOKIE);
  });
});

describe('backpressure', () => {
  it('sheds frames to a client that does not read while 50 others keep receiving every frame promptly', async () => {
    // a bus of its own with a slow heartbeat, so the stalled peer is caught by the send bound, not by a missing pong
    const slowBeat = await startAgent('broadcast', { env: { ...settings, BROADCAST_HEARTBEAT_MS: '60000' } });
    const busStats = async () => (await slowBeat.get('/stats', { authorization: `Bearer ${TOKEN}` })).body as { shed: number; dropped: number };
    const url = `ws://127.0.0.1:${slowBeat.port}/broadcast?jwt_token=${TOKEN}`;
    // light readers: count frames and read the send time from the head of the frame, without parsing 60 KB of JSON
    const readers = await Promise.all(
      Array.from({ length: 50 }, async () => {
        const ws = new WebSocket(url);
        const reader = { ws, received: 0, latencies: [] as number[] };
        ws.on('message', (data: Buffer) => {
          const head = /^\{"method":"window.list","data":\{"t":(\d+)/.exec(data.subarray(0, 64).toString());
          if (!head) return;
          reader.received += 1;
          reader.latencies.push(Date.now() - Number(head[1]));
        });
        await new Promise((resolve) => ws.once('open', resolve));
        return reader;
      }),
    );
    const stalled = await rawClient(slowBeat.port, `/broadcast?jwt_token=${TOKEN}`);
    stalled.socket.pause();
    const publisher = await connectClient(`ws://127.0.0.1:${slowBeat.port}/`, { broadcast_cookie: COOKIE });
    // a socket that is not read still takes ~4 MB into kernel buffers before any byte waits in the server: send 8 MB
    const payload = 'p'.repeat(60_000);
    const frames = 140;
    try {
      for (let i = 0; i < frames; i++) {
        publisher.ws.send(JSON.stringify({ method: 'window.list', data: { t: Date.now(), i, payload } }));
        await sleep(10);
      }
      await waitFor('every reader got every frame', async () => readers.every((r) => r.received === frames), 20_000);
      const latencies = readers.flatMap((r) => r.latencies).sort((a, b) => a - b);
      expect(latencies.length).toBe(frames * readers.length);
      expect(latencies[Math.floor(latencies.length * 0.99)]).toBeLessThan(1000);
      expect((await busStats()).shed).toBeGreaterThan(0);
      // it stays over the bound: a send after the stall timeout disconnects it
      await sleep(1100);
      publisher.ws.send(JSON.stringify({ method: 'window.list', data: { t: Date.now(), i: -1 } }));
      await waitFor('stalled client dropped', async () => (await busStats()).dropped >= 1, 5000);
      // reading again, it finds its connection closed by the server
      stalled.socket.resume();
      await stalled.closed;
    } finally {
      for (const r of readers) r.ws.terminate();
      publisher.ws.terminate();
      stalled.socket.destroy();
      await slowBeat.stop();
    }
  });
});

describe('shutdown', () => {
  it('closes every client with 1001 on SIGTERM and exits 0', async () => {
    const a = await browser();
    const b = await local();
    const exit = await bus.stop();
    expect(await a.closed).toEqual({ code: 1001, reason: 'server shutting down' });
    expect((await b.closed).code).toBe(1001);
    expect(exit).toEqual({ code: 0, signal: null });
    open.splice(0);
    // the next file's hooks need a bus: start a fresh one for afterEach/afterAll
    bus = await startAgent('broadcast', { env: settings });
  });
});
