// The clients the suites drive the agents with: curl (the client on every side of a transfer) and WebSockets.
import { execFile } from 'node:child_process';
import WebSocket, { type ClientOptions } from 'ws';

/** curl, output discarded; fails unless the answer is 200 (a refused request fails the bench). */
export function curl(args: string[]): Promise<void> {
  return new Promise((resolve, reject) =>
    execFile('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', ...args], (err, code) =>
      err ? reject(err) : code === '200' ? resolve() : reject(new Error(`curl ${args.at(-1)}: HTTP ${code}`)),
    ),
  );
}

/** An open WebSocket; an error after it opened is left to its close (the load goes on, the figures say it). */
export async function openSocket(url: string, headers: Record<string, string> = {}, options: ClientOptions = {}): Promise<WebSocket> {
  const ws = new WebSocket(url, { ...options, headers });
  ws.on('error', () => {});
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  return ws;
}
