import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { createLogger } from '@desktop-agents/kit';
import { rawWebSocketClient, waitFor } from '@desktop-agents/tools/harness';
import OpusScript from 'opusscript';
import { AudioListeners, parseCodecRequest } from '../src/listeners.js';
import type { ChunkHandler } from '../src/shared-capture.js';
import { PacketAligner, TS_PACKET } from '../src/speaker-ts.js';

const noCapture = () => () => undefined;
const silent = createLogger({ name: 't', level: 'silent' });

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
    const listeners = new AudioListeners({ format: 's16le', rate: 24000, channels: 1 }, 64 * 1024, 8, noCapture, createLogger({ name: 't', level: 'silent' }));
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
    const listeners = new AudioListeners({ format: 's16le', rate: 24000, channels: 1 }, 64 * 1024, 1, noCapture, createLogger({ name: 't', level: 'silent' }));
    const port = await server(listeners);
    const first = new WebSocket(`ws://127.0.0.1:${port}/`);
    await new Promise((resolve) => first.once('open', resolve));
    cleanups.push(() => first.terminate());
    const second = new WebSocket(`ws://127.0.0.1:${port}/`);
    expect(await new Promise((resolve) => second.once('close', (code) => resolve(code)))).toBe(1013);
  });
});

describe('Opus for listeners that ask', () => {
  it('answers a format frame for Opus, then sends one packet per frame that libopus decodes back to the tone', async () => {
    const handlers = new Set<ChunkHandler>();
    const capture = (handler: ChunkHandler) => {
      handlers.add(handler);
      return () => handlers.delete(handler);
    };
    const listeners = new AudioListeners({ format: 's16le', rate: 24000, channels: 1 }, 64 * 1024, 8, capture, silent);
    const port = await server(listeners);
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
    const formats: unknown[] = [];
    const packets: Buffer[] = [];
    ws.on('message', (data: Buffer, isBinary) => (isBinary ? packets.push(Buffer.from(data)) : formats.push(JSON.parse(data.toString()))));
    await new Promise((resolve) => ws.once('open', resolve));
    cleanups.push(() => ws.terminate());
    ws.send(JSON.stringify({ type: 'format', codec: 'opus', frameMs: 20, bitrate: 40000 }));
    await waitFor('the encoder subscribed', async () => handlers.size === 1);
    expect(listeners.opusCount).toBe(1);
    // one second of 440 Hz at 48 kHz, in 10 ms chunks as the capture delivers them
    for (let c = 0; c < 100; c++) {
      const pcm = Buffer.alloc(480 * 2);
      for (let i = 0; i < 480; i++) pcm.writeInt16LE(Math.round(12000 * Math.sin((2 * Math.PI * 440 * (c * 480 + i)) / 48000)), i * 2);
      for (const h of handlers) h(pcm);
    }
    await waitFor('50 packets', async () => packets.length === 50);
    expect(formats).toEqual([
      { type: 'format', codec: 'pcm', format: 's16le', rate: 24000, channels: 1 },
      { type: 'format', codec: 'opus', rate: 48000, frameMs: 20, bitrate: 40000, channels: 1 },
    ]);
    const kbps = (packets.reduce((n, p) => n + p.length, 0) * 8) / 1000;
    expect(kbps).toBeLessThanOrEqual(64);
    const decoder = new OpusScript(48000, 1);
    const decoded = decoder.decode(packets[40] ?? Buffer.alloc(0));
    decoder.delete();
    let crossings = 0;
    for (let i = 2; i < decoded.length; i += 2) if (decoded.readInt16LE(i - 2) < 0 && decoded.readInt16LE(i) >= 0) crossings++;
    expect(decoded.length).toBe(960 * 2);
    expect(crossings).toBeGreaterThanOrEqual(8);
    expect(crossings).toBeLessThanOrEqual(9);
    // back to PCM: the encoder stops with its last listener
    ws.send(JSON.stringify({ type: 'format', codec: 'pcm' }));
    await waitFor('the encoder unsubscribed', async () => handlers.size === 0);
    expect(listeners.opusCount).toBe(0);
  });

  it('refuses malformed or unsupported requests with 1007 and the reason', async () => {
    expect(parseCodecRequest('{"type":"format","codec":"opus","frameMs":40}')).toBe('frameMs must be one of 10, 20');
    expect(parseCodecRequest('{"type":"format","codec":"opus","bitrate":128000}')).toMatch(/^bitrate must be/);
    expect(parseCodecRequest('{"type":"format","codec":"flac"}')).toBe('codec must be "opus" or "pcm"');
    expect(parseCodecRequest('[1]')).toBe('the format frame must be a JSON object');
    const listeners = new AudioListeners({ format: 's16le', rate: 24000, channels: 1 }, 64 * 1024, 8, noCapture, silent);
    const port = await server(listeners);
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
    await new Promise((resolve) => ws.once('open', resolve));
    ws.send('not json');
    const [code, reason] = await new Promise<[number, string]>((resolve) => ws.once('close', (c, r) => resolve([c, r.toString()])));
    expect([code, reason]).toEqual([1007, 'a text message must be a JSON format frame']);
  });
});

describe('PacketAligner', () => {
  it('passes only whole 188-byte packets, keeps the rest for the next read, and resynchronises on 0x47', () => {
    const packet = (n: number) => Buffer.concat([Buffer.from([0x47]), Buffer.alloc(TS_PACKET - 1, n)]);
    const stream = Buffer.concat([packet(1), packet(2), packet(3)]);
    const aligner = new PacketAligner();
    const first = aligner.push(Buffer.concat([Buffer.from([9, 9]), stream.subarray(0, 200)]));
    expect(first?.length).toBe(TS_PACKET);
    expect(first?.[0]).toBe(0x47);
    expect(aligner.push(stream.subarray(200, 300))).toBeUndefined();
    const rest = aligner.push(stream.subarray(300));
    expect(rest?.length).toBe(2 * TS_PACKET);
    expect(rest?.[TS_PACKET]).toBe(0x47);
    expect(rest?.[TS_PACKET + 1]).toBe(3);
  });
});
