import { connect, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';

export const TOKEN = 'security-suite-token-0001';
export const auth = { authorization: `Bearer ${TOKEN}` };
export const tokenEnv = { AUTH_MODE: 'token', AUTH_TOKEN: TOKEN };

/** A TCP connection to 127.0.0.1:port, optionally from another loopback source address. */
export async function tcp(port: number, localAddress?: string): Promise<Socket> {
  const socket = connect({ port, host: '127.0.0.1', ...(localAddress ? { localAddress } : {}) });
  socket.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('error', reject);
  });
  return socket;
}

/** Resolves with everything the peer sent once it closes the connection (or after timeoutMs, with `timedOut`). */
export function untilClosed(socket: Socket, timeoutMs: number): Promise<{ data: string; timedOut: boolean; ms: number }> {
  const start = Date.now();
  let data = '';
  socket.on('data', (chunk: Buffer) => (data += chunk.toString('latin1')));
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve({ data, timedOut: true, ms: Date.now() - start }), timeoutMs);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve({ data, timedOut: false, ms: Date.now() - start });
    });
  });
}

/** A raw WebSocket upgrade request for path, with extra header lines. */
export function upgradeRequest(port: number, path: string, headers: Record<string, string> = {}): string {
  const extra = Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  return `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`;
}

/** Opens a WebSocket and resolves with its close code and reason. */
export function closeOf(url: string, options: WebSocket.ClientOptions = {}): Promise<{ code: number; reason: string; opened: boolean }> {
  const ws = new WebSocket(url, options);
  let opened = false;
  ws.on('open', () => (opened = true));
  ws.on('error', () => {});
  return new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString(), opened })));
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
