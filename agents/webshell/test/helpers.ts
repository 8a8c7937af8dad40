import WebSocket from 'ws';
import type { RunningAgent } from '@desktop-agents/tools/harness';

export const TOKEN = 'webshell-test-token-77';
export const auth = { authorization: `Bearer ${TOKEN}` };

export async function createTerminal(agent: RunningAgent, cols = 80, rows = 24): Promise<number> {
  const res = await fetch(`${agent.url}/terminals?cols=${cols}&rows=${rows}`, { method: 'POST', headers: auth });
  if (res.status !== 200) throw new Error(`create: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as number;
}

export interface Attached {
  ws: WebSocket;
  /** Everything received so far. */
  output(): string;
  /** Resolves once the output (after `from` characters) matches. */
  waitFor(pattern: RegExp, timeoutMs?: number, from?: number): Promise<string>;
  closed: Promise<{ code: number; reason: string }>;
  type(text: string): void;
}

export async function attachTerminal(agent: RunningAgent, pid: number | string, query: string = TOKEN): Promise<Attached> {
  const ws = new WebSocket(`ws://127.0.0.1:${agent.port}/terminals/${pid}?${query}`);
  let text = '';
  const waiters = new Set<() => void>();
  ws.on('message', (data) => {
    text += data.toString();
    for (const w of waiters) w();
  });
  ws.on('error', () => {});
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return {
    ws,
    closed,
    output: () => text,
    type: (s) => ws.send(s),
    waitFor: (pattern, timeoutMs = 5000, from = 0) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const m = pattern.exec(text.slice(from));
          if (m) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(m[0]);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no ${pattern} within ${timeoutMs} ms; got: ${JSON.stringify(text.slice(-300))}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      }),
  };
}

export { processAlive as alive, rssMiB } from '@desktop-agents/tools/harness';
