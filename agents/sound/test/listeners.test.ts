import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { createLogger } from '@desktop-agents/kit';
import { rawWebSocketClient, waitFor } from '@desktop-agents/tools/harness';
import { AudioListeners } from '../src/listeners.js';

// Real sockets, audio pushed faster than real time: a stalled listener only shows once the kernel's ~4 MB of
// socket buffers are full, which live audio at 48 KB/s would take minutes to reach.
const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

async function server(listeners: AudioListeners): Promise<number> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  wss.on('connection', (socket) => listeners.add(socket));
  await new Promise((resolve) => wss.once('listening', resolve));
  cleanups.push(() => {
    for (const c of wss.clients) c.terminate();
    wss.close();
  });
  const address = wss.address();
  return typeof address === 'object' && address ? address.port : 0;
}

describe('AudioListeners', () => {
  it('drops chunks for a listener that does not read, keeps its unsent bytes bounded, and keeps feeding the others', async () => {
    const listeners = new AudioListeners({ format: 's16le', rate: 24000, channels: 1 }, 64 * 1024, 8, createLogger({ name: 't', level: 'silent' }));
    const port = await server(listeners);
    const stalled = await rawWebSocketClient(port, '/');
    stalled.socket.pause();
    cleanups.push(() => stalled.socket.destroy());
    const reader = new WebSocket(`ws://127.0.0.1:${port}/`);
    let received = 0;
    reader.on('message', (data: Buffer, isBinary) => {
      if (isBinary) received += data.length;
    });
    await new Promise((resolve) => reader.once('open', resolve));
    cleanups.push(() => reader.terminate());
    await waitFor('both joined', async () => listeners.count === 2);
    const chunk = Buffer.alloc(4800, 1);
    const total = 3000;
    for (let i = 0; i < total; i++) {
      listeners.push(chunk);
      if (i % 50 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    await waitFor('reader got everything', async () => received === total * chunk.length, 10_000);
    expect(listeners.dropped).toBeGreaterThan(0);
    expect(listeners.dropped).toBeLessThan(total * chunk.length);
  });

  it('refuses listeners past the limit with 1013', async () => {
    const listeners = new AudioListeners({ format: 's16le', rate: 24000, channels: 1 }, 64 * 1024, 1, createLogger({ name: 't', level: 'silent' }));
    const port = await server(listeners);
    const first = new WebSocket(`ws://127.0.0.1:${port}/`);
    await new Promise((resolve) => first.once('open', resolve));
    cleanups.push(() => first.terminate());
    const second = new WebSocket(`ws://127.0.0.1:${port}/`);
    expect(await new Promise((resolve) => second.once('close', (code) => resolve(code)))).toBe(1013);
  });
});
