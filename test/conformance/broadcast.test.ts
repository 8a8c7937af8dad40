// ../shared/spec/broadcast.md as black-box tests against the built agent, in abcdesktop mode and token mode.
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgent, waitFor, type RunningAgent } from '@desktop-agents/tools/harness';
import { MODES } from './modes.js';

const COOKIE = 'conformance-cookie';

interface Client {
  ws: WebSocket;
  frames: Array<Record<string, unknown>>;
  next(method: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  count(method: string): number;
}

describe.each(MODES)('broadcast in $name mode', (mode) => {
  let bus: RunningAgent;
  beforeAll(async () => {
    bus = await startAgent('broadcast', { env: { ...mode.env, BROADCAST_COOKIE: COOKIE, BROADCAST_KEEPALIVE_MS: '300' } });
  });
  afterAll(async () => bus?.stop());

  /** A browser: through a proxy on the same host (another loopback address than the pod's), with the UI's path. */
  const browser = (from = '127.0.0.2') => connect(`/broadcast${mode.wsQuery() ? `?${mode.wsQuery()}` : ''}`, { localAddress: from });
  /** A local service: the root path and the cookie. */
  const local = () => connect('/', { headers: { broadcast_cookie: COOKIE } });

  async function connect(path: string, options: WebSocket.ClientOptions): Promise<Client> {
    const ws = new WebSocket(`ws://127.0.0.1:${bus.port}${path}`, options);
    const frames: Array<Record<string, unknown>> = [];
    const seen = new Map<string, number>();
    ws.on('message', (data) => frames.push(JSON.parse(data.toString()) as Record<string, unknown>));
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    return {
      ws,
      frames,
      count: (method) => frames.filter((f) => f['method'] === method).length,
      next: async (method, timeoutMs = 3000) => {
        const from = seen.get(method) ?? 0;
        const frame = await waitFor(method, async () => frames.filter((f) => f['method'] === method)[from], timeoutMs, 10);
        seen.set(method, from + 1);
        return frame;
      },
    };
  }

  it('relays the broadcast methods to every client, the sender included, with extra fields kept', async () => {
    const [a, b] = [await browser(), await browser()];
    const agent = await local();
    for (const method of [
      'proc.killed',
      'proc.started',
      'window.list',
      'printer.new',
      'display.setBackgroundBorderColor',
      'speaker.available',
      'printer.available',
    ]) {
      agent.ws.send(JSON.stringify({ method, data: { x: 1 }, extra: 'kept' }));
      for (const c of [a, b, agent]) expect(await c.next(method)).toEqual({ method, data: { x: 1 }, extra: 'kept' });
    }
    a.ws.send(JSON.stringify({ method: 'hello', user: { name: 'alice' } }));
    for (const c of [a, b, agent]) expect(await c.next('hello')).toEqual({ method: 'hello', user: { name: 'alice' } });
    // abcdesktop 4.x
    a.ws.send(JSON.stringify({ method: 'snapshot', data: 'img' }));
    for (const c of [a, b, agent]) expect((await c.next('snapshot')).data).toBe('img');
    for (const c of [a, b, agent]) c.ws.close();
  });

  it('delivers ocrun, logout, container, download and disconnect to exactly one browser', async () => {
    const [a, b] = [await browser(), await browser()];
    const agent = await local();
    for (const method of ['ocrun', 'logout', 'container', 'download', 'disconnect']) {
      agent.ws.send(JSON.stringify({ method, data: method }));
      await waitFor(method, async () => a.count(method) + b.count(method) === 1);
    }
    await new Promise((r) => setTimeout(r, 200));
    for (const method of ['ocrun', 'logout', 'container', 'download', 'disconnect']) {
      expect(a.count(method) + b.count(method)).toBe(1);
      expect(agent.count(method)).toBe(0);
    }
    for (const c of [a, b, agent]) c.ws.close();
  });

  it('counts browsers (a browser behind a proxy on this host too), not local services', async () => {
    const watcher = await browser();
    // the counter as last announced to the watcher (clients of earlier tests may still be leaving)
    const counted = (n: number) =>
      waitFor(`connect.counter ${n}`, async () => watcher.frames.filter((f) => f['method'] === 'connect.counter').at(-1)?.['data'] === n);
    await counted(1);
    const agent = await local();
    const before = watcher.count('connect.counter');
    agent.ws.send(JSON.stringify({ method: 'connect.counter' }));
    await waitFor('an answer to the request', async () => watcher.count('connect.counter') > before);
    expect(watcher.frames.filter((f) => f['method'] === 'connect.counter').at(-1)).toEqual({ method: 'connect.counter', data: 1 });
    const second = await browser('127.0.0.3');
    await counted(2);
    second.ws.close();
    await counted(1);
    for (const c of [watcher, agent]) c.ws.close();
  });

  it('sends the keepalive with the original text and the date in ms as a string', async () => {
    const c = await browser();
    const keepalive = await c.next('keepalive');
    expect(keepalive).toEqual({ method: 'keepalive', data: { data: 'I am a teapot', date: expect.stringMatching(/^\d{13}$/) } });
    c.ws.close();
  });

  it('relays a 256 KiB frame', async () => {
    const [a, b] = [await browser(), await browser()];
    const big = 'x'.repeat(256 * 1024);
    a.ws.send(JSON.stringify({ method: 'hello', data: big }));
    expect((await b.next('hello')).data).toBe(big);
    for (const c of [a, b]) c.ws.close();
  });

  it('ignores any other method without closing the sender', async () => {
    const [a, b] = [await browser(), await browser()];
    a.ws.send(JSON.stringify({ method: 'no.such.method', data: 1 }));
    a.ws.send(JSON.stringify({ method: 'hello', data: 'after' }));
    expect((await b.next('hello')).data).toBe('after');
    expect(b.count('no.such.method')).toBe(0);
    expect(a.ws.readyState).toBe(WebSocket.OPEN);
    for (const c of [a, b]) c.ws.close();
  });
});
