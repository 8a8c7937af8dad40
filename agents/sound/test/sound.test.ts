import { execFileSync, spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { freePort, startAgent, startPulse, waitFor, type PulseServer, type RunningAgent } from '@desktop-agents/tools/harness';

const TOKEN = 'sound-test-token-0000';
const COOKIE = 'sound-cookie';
const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
const RATE = 24000;
let pulse: PulseServer;
let bus: RunningAgent;
let sound: RunningAgent;
let busListener: WebSocket;
let speakerPort: number;
let microphonePort: number;
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
function frequency(samples: Int16Array, rate = RATE): number {
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
  return crossings > 1 ? ((crossings - 1) * rate) / (last - first) : 0;
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
  speakerPort = await freePort();
  microphonePort = await freePort();
  sound = await startAgent('sound', {
    env: {
      AUTH_TOKEN: TOKEN,
      BROADCAST_COOKIE: COOKIE,
      BROADCAST_SERVICE_TCP_PORT: String(bus.port),
      PULSE_SERVER: pulse.server,
      SOUND_RATE: String(RATE),
      SOUND_SPEAKER_TCP_PORT: String(speakerPort),
      SOUND_MICROPHONE_TCP_PORT: String(microphonePort),
    },
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
    expect(listener.format()).toEqual({ type: 'format', codec: 'pcm', format: 's16le', rate: RATE, channels: 1 });
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

/**
 * Records a pulse source with parec (an app's view of it) as s16le mono at `rate`; resolves once data flows (a new
 * capture of an idle source takes up to 2 s to deliver).
 */
async function record(source: string, rate: number): Promise<{ samples: () => Int16Array; stop: () => void }> {
  const parec = spawn('parec', [`--device=${source}`, '--format=s16le', `--rate=${rate}`, '--channels=1', '--raw', '--latency-msec=20'], {
    env: { ...process.env, ...pulse.env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const chunks: Buffer[] = [];
  parec.stdout.on('data', (c: Buffer) => chunks.push(c));
  await waitFor('parec delivering', async () => chunks.reduce((n, c) => n + c.length, 0) > rate / 10, 5000);
  return {
    samples: () => {
      const all = Buffer.concat(chunks);
      return new Int16Array(all.buffer, all.byteOffset, Math.floor(all.length / 2));
    },
    stop: () => parec.kill(),
  };
}

/** float32 mono sine, cut into messages of 128 samples as abcdesktop 4.x's page sends them. */
function floatTone(hz: number, seconds: number, rate: number): Buffer[] {
  const messages: Buffer[] = [];
  const total = Math.round(rate * seconds);
  for (let at = 0; at < total; at += 128) {
    const message = Buffer.alloc(128 * 4);
    for (let i = 0; i < 128; i++) message.writeFloatLE(0.4 * Math.sin((2 * Math.PI * hz * (at + i)) / rate), i * 4);
    messages.push(message);
  }
  return messages;
}

/** Sends the messages paced in real time, as a page's AudioWorklet would. */
async function talk(ws: WebSocket, messages: Buffer[], rate: number): Promise<void> {
  const start = performance.now();
  for (let i = 0; i < messages.length; i++) {
    const due = start + ((i * 128) / rate) * 1000;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    ws.send(messages[i] ?? Buffer.alloc(0));
  }
}

function closed(ws: WebSocket): Promise<[number, string]> {
  return new Promise((resolve) => ws.once('close', (code, reason) => resolve([code, reason.toString()])));
}

async function opened(url: string): Promise<WebSocket> {
  const ws = new WebSocket(url);
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  return ws;
}

describe('the microphone', () => {
  it('makes a source "microphone" that is the default and stays while no one talks', async () => {
    await waitFor('microphone source', async () => (await pulse.pactl('list', 'short', 'sources')).includes('microphone\t'), 5000);
    expect(await pulse.pactl('get-default-source')).toMatch(/^microphone\s*$/);
    expect((await pulse.pactl('get-default-sink')).trim()).toBe('desktop');
  });

  it('plays a page talking at 48 kHz (format frame) into the source, where parec hears the tone; silence once it leaves', async () => {
    const recorder = await record('microphone', 16000);
    const ws = await opened(`ws://127.0.0.1:${sound.port}/sound/microphone?jwt_token=${TOKEN}`);
    ws.send(JSON.stringify({ type: 'format', rate: 48000, channels: 1 }));
    await talk(ws, floatTone(700, 1.2, 48000), 48000);
    await sleep(200);
    const heard = recorder.samples();
    const start = heard.findIndex((v) => Math.abs(v) > 3000);
    expect(start).toBeGreaterThan(-1);
    const hz = frequency(heard.subarray(start + 800, start + 12000), 16000);
    expect(hz).toBeGreaterThan(665);
    expect(hz).toBeLessThan(735);
    const status = (await (await fetch(`${sound.url}/sound/status`, { headers: auth })).json()) as { data: { microphoneTalking: boolean } };
    expect(status.data.microphoneTalking).toBe(true);
    ws.close();
    await sleep(500);
    const before = recorder.samples().length;
    await sleep(400);
    const after = recorder.samples().subarray(before);
    recorder.stop();
    expect(after.length).toBeGreaterThan(3000);
    expect(after.every((v) => Math.abs(v) < 50)).toBe(true);
    expect(await pulse.pactl('list', 'short', 'sources')).toContain('microphone\t');
  });

  it('serves abcdesktop 4.x on its own port: float32 at 44.1 kHz without a format frame; one talker at a time', async () => {
    const recorder = await record('microphone', 16000);
    const first = await opened(`ws://127.0.0.1:${microphonePort}/microphone?jwt_token=${TOKEN}`);
    try {
      const second = new WebSocket(`ws://127.0.0.1:${sound.port}/sound/microphone?jwt_token=${TOKEN}`);
      expect(await closed(second)).toEqual([1013, 'microphone in use by another page']);
      await talk(first, floatTone(500, 1, 44100), 44100);
      await sleep(200);
      recorder.stop();
      const heard = recorder.samples();
      const start = heard.findIndex((v) => Math.abs(v) > 3000);
      expect(start).toBeGreaterThan(-1);
      // within 5 %: on a loaded machine the sender bursts, and the queue drops what is late (as it must)
      const hz = frequency(heard.subarray(start + 800, start + 10000), 16000);
      expect(hz).toBeGreaterThan(475);
      expect(hz).toBeLessThan(525);
    } finally {
      first.close();
    }
    await waitFor('the talker left', async () => {
      const status = (await (await fetch(`${sound.url}/sound/status`, { headers: auth })).json()) as { data: { microphoneTalking: boolean } };
      return !status.data.microphoneTalking;
    });
  });

  it('refuses callers without the token, malformed format frames and partial sample frames, saying why', async () => {
    expect(await closed(new WebSocket(`ws://127.0.0.1:${microphonePort}/microphone`))).toEqual([1008, 'unauthorized']);
    const badFormat = await opened(`ws://127.0.0.1:${sound.port}/sound/microphone?jwt_token=${TOKEN}`);
    badFormat.send(JSON.stringify({ type: 'format', rate: 5 }));
    expect(await closed(badFormat)).toEqual([1007, 'rate must be an integer from 8000 to 192000']);
    const partial = await opened(`ws://127.0.0.1:${sound.port}/sound/microphone?jwt_token=${TOKEN}`);
    partial.send(Buffer.alloc(6));
    expect(await closed(partial)).toEqual([1007, 'audio messages must hold whole frames of 4 bytes']);
    const late = await opened(`ws://127.0.0.1:${sound.port}/sound/microphone?jwt_token=${TOKEN}`);
    late.send(Buffer.alloc(512));
    late.send(JSON.stringify({ type: 'format', rate: 48000 }));
    expect(await closed(late)).toEqual([1007, 'the format frame must come before the first samples']);
    const plain = await fetch(`http://127.0.0.1:${microphonePort}/microphone`);
    expect(plain.status).toBe(426);
  });
});

/** Decodes an MPEG transport stream with ffmpeg: its audio as s16le mono at 44.1 kHz, and ffmpeg's description. */
async function decodeTs(ts: Buffer): Promise<{ pcm: Int16Array; info: string }> {
  const ffmpeg = spawn('ffmpeg', ['-hide_banner', '-f', 'mpegts', '-i', 'pipe:0', '-f', 's16le', '-ac', '1', '-ar', '44100', 'pipe:1'], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const out: Buffer[] = [];
  let info = '';
  ffmpeg.stdout.on('data', (c: Buffer) => out.push(c));
  ffmpeg.stderr.on('data', (c: Buffer) => (info += c.toString()));
  ffmpeg.stdin.end(ts);
  await new Promise((resolve) => ffmpeg.once('exit', resolve));
  const all = Buffer.concat(out);
  return { pcm: new Int16Array(all.buffer, all.byteOffset, Math.floor(all.length / 2)), info };
}

describe('the abcdesktop 4.x speaker', () => {
  it('sends the desktop sink as MPEG-TS with MP2 audio in packet-aligned binary frames; ffmpeg runs only while someone listens', async () => {
    const ws = await opened(`ws://127.0.0.1:${speakerPort}/sound?jwt_token=${TOKEN}`);
    const frames: Buffer[] = [];
    ws.on('message', (data: Buffer) => frames.push(Buffer.from(data)));
    await waitFor('first frame', async () => frames.length > 0, 5000);
    await play(tone(800, 1.5));
    await sleep(500);
    ws.close();
    expect(frames.every((f) => f.length % 188 === 0 && f[0] === 0x47)).toBe(true);
    const { pcm, info } = await decodeTs(Buffer.concat(frames));
    expect(info).toMatch(/Audio: mp2.*44100 Hz, mono/);
    const start = pcm.findIndex((v) => Math.abs(v) > 2000);
    expect(start).toBeGreaterThan(-1);
    const hz = frequency(pcm.subarray(start + 2000, start + 40000), 44100);
    expect(hz).toBeGreaterThan(780);
    expect(hz).toBeLessThan(820);
    await waitFor('encoder stopped', async () => {
      const status = (await (await fetch(`${sound.url}/sound/status`, { headers: auth })).json()) as { data: { speakerTsEncoder: boolean } };
      return !status.data.speakerTsEncoder;
    });
    expect(await closed(new WebSocket(`ws://127.0.0.1:${speakerPort}/sound`))).toEqual([1008, 'unauthorized']);
  });
});

async function soundStatus(): Promise<Record<string, unknown>> {
  return ((await (await fetch(`${sound.url}/sound/status`, { headers: auth })).json()) as { data: Record<string, unknown> }).data;
}

/** The pids of the agent's ffmpeg children. */
function ffmpegChildren(): number[] {
  let out = '';
  try {
    out = execFileSync('ps', ['-o', 'pid=,comm=', '--ppid', String(sound.process.pid)], { encoding: 'utf8' });
  } catch {
    // ps exits 1 when the agent has no children
  }
  return out
    .split('\n')
    .filter((l) => l.includes('ffmpeg'))
    .map((l) => Number(l.trim().split(/\s+/)[0]));
}

describe('hostile talkers and listeners', () => {
  it('drops a burst of microphone audio beyond its bound instead of queueing it, and stays up', async () => {
    const ws = await opened(`ws://127.0.0.1:${sound.port}/sound/microphone?jwt_token=${TOKEN}`);
    ws.send(JSON.stringify({ type: 'format', rate: 48000, channels: 1 }));
    const before = Number((await soundStatus())['microphoneDroppedBytes']);
    // five seconds of audio at once, in messages of 32 KiB (170 ms): the queue holds 80 ms of it
    const message = Buffer.alloc(32 * 1024);
    for (let n = 0; n < 30; n++) ws.send(message);
    await waitFor('the burst dropped', async () => Number((await soundStatus())['microphoneDroppedBytes']) - before > 25 * message.length, 5000);
    expect((await sound.get('/healthz')).status).toBe(200);
    ws.close();
    await waitFor('the talker left', async () => (await soundStatus())['microphoneTalking'] === false);
  });

  it('closes a message over 64 KiB with 1009, and a page of another origin with 1008', async () => {
    const big = await opened(`ws://127.0.0.1:${sound.port}/sound/microphone?jwt_token=${TOKEN}`);
    big.send(Buffer.alloc(65 * 1024));
    expect((await closed(big))[0]).toBe(1009);
    const foreign = new WebSocket(`ws://127.0.0.1:${microphonePort}/microphone?jwt_token=${TOKEN}`, { origin: 'https://evil.example' });
    expect(await closed(foreign)).toEqual([1008, 'origin not allowed']);
    const foreignSpeaker = new WebSocket(`ws://127.0.0.1:${speakerPort}/sound?jwt_token=${TOKEN}`, { origin: 'https://evil.example' });
    expect(await closed(foreignSpeaker)).toEqual([1008, 'origin not allowed']);
  });

  it('runs one ffmpeg however fast listeners come and go on the 4.x speaker, and none once they are gone', async () => {
    for (let n = 0; n < 20; n++) {
      const ws = await opened(`ws://127.0.0.1:${speakerPort}/sound?jwt_token=${TOKEN}`);
      ws.close();
    }
    expect(ffmpegChildren().length).toBeLessThanOrEqual(1);
    await waitFor('ffmpeg stopped', async () => ffmpegChildren().length === 0 && (await soundStatus())['speakerTsEncoder'] === false);
    expect((await sound.get('/healthz')).status).toBe(200);
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
