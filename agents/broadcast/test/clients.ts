import WebSocket from 'ws';
import type { BusMessage } from '@desktop-agents/kit';
export { rawWebSocketClient as rawClient } from '@desktop-agents/tools/harness';

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
