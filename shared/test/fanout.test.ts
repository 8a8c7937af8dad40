import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { FanOut, shareFrame } from '../src/fanout.js';

let wss: WebSocketServer | undefined;
const clients: WebSocket[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.terminate();
  if (wss) await new Promise((resolve) => wss?.close(resolve));
  wss = undefined;
});

/** A real ws server and `count` real ws clients; resolves with the server's end of each. */
async function connected(count: number): Promise<{ server: WebSocket[]; client: WebSocket[] }> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  wss = server;
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const ends: WebSocket[] = [];
  server.on('connection', (ws) => ends.push(ws));
  for (let i = 0; i < count; i++) {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`, { perMessageDeflate: false });
    clients.push(ws);
    await once(ws, 'open');
  }
  await expect.poll(() => ends.length).toBe(count);
  return { server: ends, client: clients.slice(-count) };
}

function collect(ws: WebSocket, expected: number): Promise<Array<{ data: Buffer; binary: boolean }>> {
  const got: Array<{ data: Buffer; binary: boolean }> = [];
  return new Promise((resolve) =>
    ws.on('message', (data: Buffer, binary) => {
      got.push({ data, binary });
      if (got.length === expected) resolve(got);
    }),
  );
}

describe('shared frames', () => {
  it('frames every payload length class (7-bit, 16-bit, 64-bit) as a standard client reads it', async () => {
    const { server, client } = await connected(2);
    const payloads = [0, 1, 125, 126, 65535, 65536, 1024 * 1024 + 7].map((n, i) => Buffer.alloc(n, 97 + i));
    const fanOut = new FanOut();
    const outboxes = server.map((ws) => fanOut.outbox(ws));
    const received = client.map((ws) => collect(ws, payloads.length * 2));
    for (const p of payloads) {
      const text = shareFrame(p.toString('latin1'), false);
      const binary = shareFrame(p, true);
      for (const o of outboxes) {
        o.push(text);
        o.push(binary);
      }
    }
    for (const got of await Promise.all(received)) {
      expect(got.map((m) => [m.data.length, m.binary])).toEqual(
        payloads.flatMap((p) => [
          [p.length, false],
          [p.length, true],
        ]),
      );
      got.forEach((m, i) => expect(m.data.equals(payloads[Math.floor(i / 2)]!)).toBe(true));
    }
  });

  it('writes what a socket queued in one turn together, in order, at the end of the turn', async () => {
    const { server, client } = await connected(1);
    const end = server[0]!;
    const fanOut = new FanOut();
    const outbox = fanOut.outbox(end);
    const received = collect(client[0]!, 100);
    const before = end.bufferedAmount;
    for (let i = 0; i < 100; i++) outbox.push(shareFrame(`frame ${i}`, false));
    // queued, not written yet: the socket has taken nothing of this turn
    expect(outbox.queued).toBe(100);
    expect(end.bufferedAmount).toBe(before);
    await new Promise((resolve) => setImmediate(resolve));
    expect(outbox.queued).toBe(0);
    expect((await received).map((m) => m.data.toString())).toEqual(Array.from({ length: 100 }, (_, i) => `frame ${i}`));
  });

  it('sends nothing queued after the socket started closing: the close frame is the last', async () => {
    const { server, client } = await connected(1);
    const end = server[0]!;
    const outbox = new FanOut().outbox(end);
    const messages: string[] = [];
    client[0]!.on('message', (data: Buffer) => messages.push(data.toString()));
    outbox.push(shareFrame('before close', false));
    end.close(1001, 'going away');
    outbox.push(shareFrame('after close', false));
    const [code, reason] = (await once(client[0]!, 'close')) as [number, Buffer];
    expect([code, reason.toString()]).toEqual([1001, 'going away']);
    expect(messages).toEqual([]);
  });

  it('a terminated socket drops its queue without an error', async () => {
    const { server } = await connected(1);
    const end = server[0]!;
    const fanOut = new FanOut();
    const outbox = fanOut.outbox(end);
    outbox.push(shareFrame('x', false));
    end.terminate();
    expect(() => fanOut.flush()).not.toThrow();
    expect(outbox.queued).toBe(0);
  });
});
