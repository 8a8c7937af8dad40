import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startAgent, startPulse, waitFor, type PulseServer, type RunningAgent } from '@desktop-agents/tools/harness';

const TOKEN = 'sound-test-token-0000';
const COOKIE = 'sound-cookie';
const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
const RATE = 24000;
let pulse: PulseServer;
let bus: RunningAgent;
let sound: RunningAgent;
let busListener: WebSocket;
const events: Array<{ method: string; data?: unknown }> = [];

function tone(hz: number, seconds: number): Buffer {
  const samples = Math.round(RATE * seconds);
  const pcm = Buffer.alloc(samples * 2);
  for (let i = 0; i < samples; i++) pcm.writeInt16LE(Math.round(12000 * Math.sin((2 * Math.PI * hz * i) / RATE)), i * 2);
  return pcm;
}

/** Plays raw PCM into the desktop sink with pacat (a separate client, as an app would). */
async function play(pcm: Buffer): Promise<void> {
  const pacat = spawn('pacat', ['--playback', `--device=${pulse.sink}`, '--format=s16le', `--rate=${RATE}`, '--channels=1', '--raw'], {
    env: { ...process.env, ...pulse.env },
    stdio: ['pipe', 'ignore', 'inherit'],
  });
  pacat.stdin.end(pcm);
  await new Promise((resolve) => pacat.once('exit', resolve));
}

/** Frequency by counting rising zero crossings over the samples above a noise floor. */
function frequency(samples: Int16Array): number {
  let crossings = 0;
  let first = -1;
  let last = -1;
  for (let i = 1; i < samples.length; i++) {
    if ((samples[i - 1] ?? 0) < 0 && (samples[i] ?? 0) >= 0) {
      crossings += 1;
      if (first < 0) first = i;
      last = i;
    }
  }
  return crossings > 1 ? ((crossings - 1) * RATE) / (last - first) : 0;
}

async function listen(): Promise<{ ws: WebSocket; format: () => unknown; pcm: () => Int16Array }> {
  const ws = new WebSocket(`ws://127.0.0.1:${sound.port}/listen/source/desktop.monitor?jwt_token=${TOKEN}`);
  let format: unknown;
  const chunks: Buffer[] = [];
  ws.on('message', (data: Buffer, isBinary) => {
    if (isBinary) chunks.push(Buffer.from(data));
    else format = JSON.parse(data.toString());
  });
  await new Promise((resolve) => ws.once('open', resolve));
  return {
    ws,
    format: () => format,
    pcm: () => {
      const all = Buffer.concat(chunks);
      return new Int16Array(all.buffer, all.byteOffset, Math.floor(all.length / 2));
    },
  };
}

beforeAll(async () => {
  pulse = await startPulse();
  bus = await startAgent('broadcast', { env: { AUTH_TOKEN: TOKEN, BROADCAST_COOKIE: COOKIE } });
  busListener = new WebSocket(`ws://127.0.0.1:${bus.port}/broadcast?jwt_token=${TOKEN}`);
  busListener.on('message', (raw) => events.push(JSON.parse(raw.toString()) as { method: string; data?: unknown }));
  await new Promise((resolve) => busListener.once('open', resolve));
  sound = await startAgent('sound', {
    env: { AUTH_TOKEN: TOKEN, BROADCAST_COOKIE: COOKIE, BROADCAST_SERVICE_TCP_PORT: String(bus.port), PULSE_SERVER: pulse.server, SOUND_RATE: String(RATE) },
  });
});
afterAll(async () => {
  busListener?.terminate();
  await sound?.stop();
  await bus?.stop();
  await pulse?.stop();
});

describe('control against a real PulseAudio', () => {
  it('announces speaker.available true once pulse is usable', async () => {
    await waitFor('speaker.available', async () => events.some((e) => e.method === 'speaker.available' && e.data === true), 5000);
  });

  it('lists sinks and sources', async () => {
    const sinks = (await (await fetch(`${sound.url}/sound/sinks`, { headers: auth })).json()) as { data: Array<{ name: string }> };
    expect(sinks.data.map((s) => s.name)).toContain('desktop');
    const sources = (await (await fetch(`${sound.url}/sound/sources`, { headers: auth })).json()) as { data: Array<{ name: string }> };
    expect(sources.data.map((s) => s.name)).toContain('desktop.monitor');
  });

  it('changes volume and mute, as pactl sees them', async () => {
    const put = (path: string, body: unknown) => fetch(`${sound.url}${path}`, { method: 'PUT', headers: auth, body: JSON.stringify(body) });
    expect(await (await put('/sound/sinks/desktop/volume', { volume: 42 })).json()).toEqual({ code: 200, data: 'ok' });
    expect(await pulse.pactl('get-sink-volume', 'desktop')).toMatch(/42%/);
    expect((await put('/sound/sinks/desktop/mute', { mute: true })).status).toBe(200);
    expect(await pulse.pactl('get-sink-mute', 'desktop')).toMatch(/yes/);
    await put('/sound/sinks/desktop/mute', { mute: false });
    await put('/sound/sinks/desktop/volume', { volume: 100 });
    expect((await put('/sound/sinks/nope/volume', { volume: 10 })).status).toBe(404);
    const bad = await put('/sound/sinks/desktop/volume', { volume: 'loud' });
    expect([bad.status, await bad.json()]).toEqual([
      422,
      { errors: [{ location: 'body', param: 'volume', value: 'loud', msg: 'Volume must be a number from 0 to 150 (percent)' }] },
    ]);
  });
});

describe('live audio', () => {
  it('streams a tone played into the desktop sink to a WebSocket listener at the right frequency', async () => {
    const listener = await listen();
    await waitFor('format frame', async () => listener.format() !== undefined, 3000);
    expect(listener.format()).toEqual({ type: 'format', format: 's16le', rate: RATE, channels: 1 });
    await play(tone(1000, 1.5));
    await sleep(300);
    const pcm = listener.pcm();
    const loud = pcm.filter((s) => Math.abs(s) > 2000);
    expect(loud.length).toBeGreaterThan(RATE * 0.5);
    // the loud stretch: from the first to the last sample over the floor
    const start = pcm.findIndex((s) => Math.abs(s) > 2000);
    let end = pcm.length - 1;
    while (end > start && Math.abs(pcm[end] ?? 0) <= 2000) end -= 1;
    const hz = frequency(pcm.subarray(start + 240, end - 240));
    expect(hz).toBeGreaterThan(980);
    expect(hz).toBeLessThan(1020);
    listener.ws.close();
  });

  it('refuses listeners without the token and unknown sources', async () => {
    const noToken = new WebSocket(`ws://127.0.0.1:${sound.port}/sound/listen`);
    expect(await new Promise((resolve) => noToken.once('close', (code) => resolve(code)))).toBe(1008);
    const other = new WebSocket(`ws://127.0.0.1:${sound.port}/listen/source/other.monitor?jwt_token=${TOKEN}`);
    expect(await new Promise((resolve) => other.once('close', (code) => resolve(code)))).toBe(4404);
  });
});

describe('pulse going away', () => {
  it('reports not ready and speaker.available false when pulse dies, and recovers when it returns', async () => {
    await pulse.kill();
    await waitFor('not ready', async () => (await sound.get('/readyz')).status === 503, 5000);
    expect((await fetch(`${sound.url}/sound/sinks`, { headers: auth })).status).toBe(503);
    await waitFor('speaker.available false', async () => events.some((e) => e.method === 'speaker.available' && e.data === false), 5000);
    await pulse.restart();
    await waitFor('ready again', async () => (await sound.get('/readyz')).status === 200, 15_000);
    const listener = await listen();
    await play(tone(1000, 1));
    await sleep(300);
    expect(listener.pcm().filter((s) => Math.abs(s) > 2000).length).toBeGreaterThan(RATE * 0.3);
    listener.ws.close();
  });

  it('exits 0 on SIGTERM', async () => {
    expect(await sound.stop()).toEqual({ code: 0, signal: null });
  });
});
