import { connect as tcpConnect, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import type { BusMessage } from '@desktop-agents/kit';

export interface TestClient {
  ws: WebSocket;
  messages: BusMessage[];
  closed: Promise<{ code: number; reason: string }>;
  /** Resolves with the next (or an already received, not yet taken) message with this method. */
  next(method: string, timeoutMs?: number): Promise<BusMessage>;
  count(method: string): number;
}

export async function connectClient(url: string, headers: Record<string, string> = {}): Promise<TestClient> {
  const ws = new WebSocket(url, { headers });
  const messages: BusMessage[] = [];
  const taken = new Set<BusMessage>();
  const waiters: Array<() => void> = [];
  ws.on('message', (data) => {
    messages.push(JSON.parse(data.toString()) as BusMessage);
    for (const w of waiters.splice(0)) w();
  });
  ws.on('error', () => {});
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const next = (method: string, timeoutMs = 3000) =>
    new Promise<BusMessage>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${method} within ${timeoutMs} ms`)), timeoutMs);
      const check = () => {
        const found = messages.find((m) => m.method === method && !taken.has(m));
        if (found) {
          taken.add(found);
          clearTimeout(timer);
          resolve(found);
        } else waiters.push(check);
      };
      check();
    });
  return { ws, messages, closed, next, count: (method) => messages.filter((m) => m.method === method).length };
}

/**
 * A raw TCP client that completes the WebSocket handshake and then does nothing: it never reads (when paused) and
 * never answers pings, like a dead or stalled peer.
 */
export async function rawClient(port: number, path: string): Promise<{ socket: Socket; closed: Promise<void> }> {
  const socket = tcpConnect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('error', reject);
  });
  socket.on('error', () => {});
  const key = randomBytes(16).toString('base64');
  socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
  await new Promise<void>((resolve, reject) => {
    let head = '';
    const onData = (chunk: Buffer) => {
      head += chunk.toString('latin1');
      if (head.includes('\r\n\r\n')) {
        socket.off('data', onData);
        if (head.startsWith('HTTP/1.1 101')) resolve();
        else reject(new Error(head.split('\r\n')[0]));
      }
    };
    socket.on('data', onData);
  });
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return { socket, closed };
}
