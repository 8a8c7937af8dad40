import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { BusClient, createLogger, type BusMessage } from '../src/index.js';

const logger = createLogger({ name: 'bus-test', level: 'silent' });
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function startServer(
  port = 0,
): Promise<{ wss: WebSocketServer; port: number; received: string[]; headers: Record<string, unknown>[]; sockets: WebSocket[] }> {
  const wss = new WebSocketServer({ port, host: '127.0.0.1' });
  await new Promise((resolve) => wss.once('listening', resolve));
  const received: string[] = [];
  const headers: Record<string, unknown>[] = [];
  const sockets: WebSocket[] = [];
  wss.on('connection', (socket, request) => {
    sockets.push(socket);
    headers.push(request.headers);
    socket.on('message', (data) => received.push(data.toString()));
  });
  const address = wss.address();
  cleanups.push(
    () =>
      new Promise((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close(() => resolve());
      }),
  );
  return { wss, port: typeof address === 'object' && address ? address.port : 0, received, headers, sockets };
}

const until = async (cond: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met');
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('BusClient', () => {
  it('presents the cookie and token, publishes and dispatches by method', async () => {
    const server = await startServer();
    const client = new BusClient({ url: `ws://127.0.0.1:${server.port}/`, logger, cookie: 'c00kie', token: 'tok' }).connect();
    cleanups.push(() => client.close());
    await client.waitOpen();
    const win = { id: 1, pid: null, wm_class: 'xterm.XTerm', title: 't', machine_name: 'm' };
    client.publish('window.list', [win]);
    // @ts-expect-error a method that is no agent event does not compile (the typed map of bus methods)
    if (process.env['NEVER_SET_FOR_TYPECHECK']) client.publish('window.lst', [win]);
    await until(() => server.received.length === 1);
    expect(JSON.parse(server.received[0] ?? '')).toEqual({ method: 'window.list', data: [win] });
    expect(server.headers[0]).toMatchObject({ broadcast_cookie: 'c00kie', authorization: 'Bearer tok' });

    const got: BusMessage[] = [];
    client.subscribe('printer.new', (m) => got.push(m));
    server.sockets[0]?.send(JSON.stringify({ method: 'keepalive', data: {} }));
    server.sockets[0]?.send('not json');
    server.sockets[0]?.send(JSON.stringify({ method: 'printer.new', data: { path: '/x.pdf' } }));
    await until(() => got.length === 1);
    expect(got[0]).toEqual({ method: 'printer.new', data: { path: '/x.pdf' } });
  });

  it('queues while the bus is down (bounded, oldest dropped) and flushes after reconnecting', async () => {
    const first = await startServer();
    const port = first.port;
    const client = new BusClient({ url: `ws://127.0.0.1:${port}/`, logger, minDelayMs: 20, maxDelayMs: 100, maxQueue: 3 }).connect();
    cleanups.push(() => client.close());
    await client.waitOpen();
    for (const s of first.sockets) s.terminate();
    await new Promise<void>((resolve) => first.wss.close(() => resolve()));
    await until(() => !client.connected);
    for (let i = 0; i < 5; i++) client.send('n', i);
    expect(client.queued).toBe(3);
    const second = await startServer(port);
    await until(() => second.received.length === 3);
    expect(second.received.map((r) => (JSON.parse(r) as BusMessage).data)).toEqual([2, 3, 4]);
    expect(client.queued).toBe(0);
  });

  it('stops reconnecting after close()', async () => {
    const server = await startServer();
    const client = new BusClient({ url: `ws://127.0.0.1:${server.port}/`, logger, minDelayMs: 10 }).connect();
    await client.waitOpen();
    await client.close();
    await new Promise((r) => setTimeout(r, 100));
    expect(server.wss.clients.size).toBe(0);
    expect(client.connected).toBe(false);
  });
});

describe('publishing when the connection opens', () => {
  it("sends what an 'open' listener publishes at once (an agent's state on every reconnect), not into the queue", async () => {
    const server = await startServer();
    const bus = new BusClient({ url: `ws://127.0.0.1:${server.port}/`, logger });
    cleanups.push(() => bus.close());
    bus.on('open', () => bus.send('printer.available', true));
    bus.connect();
    await until(() => server.received.length === 1);
    expect(JSON.parse(server.received[0] ?? '{}')).toEqual({ method: 'printer.available', data: true });
    expect(bus.queued).toBe(0);
  });
});
