import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { peakOf, startAgent, startPulse, startXvfb, waitFor, type PulseServer, type RunningAgent, type XServer } from '@desktop-agents/tools/harness';

// The audio server has one owner (the kit's audio-server): the spawner's configurePulse and setAudioQuality and the
// sound agent set it up the same way. Before, configurePulse made a sink of its own the default: a desktop app's
// sound moved there and the sound agent's listeners heard silence.
const TOKEN = 'audio-owner-token-000001';
const RTP = { ip: '127.0.0.1', port: 46002 };
const home = mkdtempSync(join(tmpdir(), 'audio-owner-'));
let pulse: PulseServer;
let x: XServer;
let sound: RunningAgent;
let spawner: RunningAgent;
let tone: ChildProcess;
let listener: WebSocket;
/** Loudest sample heard by the listener in each 100 ms. */
const heard: Array<{ at: number; peak: number }> = [];

/** A desktop application playing a 440 Hz tone to the default sink, as any app does (no device named). */
function playTone(): ChildProcess {
  const player = spawn('pacat', ['--format=s16le', '--rate=48000', '--channels=1', '--latency-msec=50'], {
    env: { ...process.env, ...pulse.env },
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  const chunk = Buffer.alloc(4800 * 2);
  let phase = 0;
  const feed = setInterval(() => {
    for (let i = 0; i < 4800; i++) chunk.writeInt16LE(Math.round(12000 * Math.sin((2 * Math.PI * 440 * phase++) / 48000)), i * 2);
    player.stdin?.write(chunk);
  }, 100);
  player.stdin?.on('error', () => undefined); // written to until it is killed
  player.once('exit', () => clearInterval(feed));
  return player;
}

const loudSince = (since: number) => heard.filter((h) => h.at >= since).some((h) => h.peak > 6000);
const call = async (method: string, path: string, body: unknown) => {
  const res = await fetch(`${spawner.url}/spawner/${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as unknown };
};
const rtpSenders = async () => (await pulse.pactl('list', 'short', 'modules')).split('\n').filter((line) => line.includes('module-rtp-send')).length;

beforeAll(async () => {
  pulse = await startPulse();
  x = await startXvfb();
  sound = await startAgent('sound', {
    env: { AUTH_TOKEN: TOKEN, PULSE_SERVER: pulse.server, SOUND_RATE: '24000', BROADCAST_SERVICE_URL: 'ws://127.0.0.1:9/' },
  });
  spawner = await startAgent('spawner', {
    env: {
      AUTH_TOKEN: TOKEN,
      DISPLAY: x.display,
      HOME: home,
      SPAWNER_PID_FILE: join(home, 'spawner.pid'),
      PULSE_SERVER: pulse.server,
      SPAWNER_RTP_DESTINATION: `${RTP.ip}:${RTP.port}`,
      BROADCAST_SERVICE_URL: 'ws://127.0.0.1:9/',
    },
  });
  listener = new WebSocket(`ws://127.0.0.1:${sound.port}/sound/listen?jwt_token=${TOKEN}`);
  let window = { at: Date.now(), peak: 0 };
  listener.on('message', (data: Buffer, isBinary) => {
    if (!isBinary) return;
    window.peak = Math.max(window.peak, peakOf(data));
    if (Date.now() - window.at >= 100) {
      heard.push(window);
      window = { at: Date.now(), peak: 0 };
    }
  });
  await new Promise((resolve, reject) => listener.once('open', resolve).once('error', reject));
  tone = playTone();
}, 60_000);
afterAll(async () => {
  tone?.kill();
  listener?.terminate();
  await spawner?.stop();
  await sound?.stop();
  await x?.stop();
  await pulse?.stop();
  rmSync(home, { recursive: true, force: true });
});

describe('one owner of the audio server', () => {
  it("keeps the sound agent's listener hearing a desktop app through configurePulse and setAudioQuality, with one RTP sender", async () => {
    await waitFor('the tone heard', async () => loudSince(0), 10_000);

    expect(await call('PUT', 'configurePulse', { destinationIp: RTP.ip, port: RTP.port })).toEqual({
      status: 200,
      body: { code: 200, data: { pulseAudioIsConfigured: true, pulseAudioIsAvailable: true } },
    });
    const afterRtp = Date.now() + 300;
    await waitFor('the tone heard after configurePulse', async () => loudSince(afterRtp), 5000);
    expect(heard.filter((h) => h.at >= afterRtp + 500).every((h) => h.peak > 6000)).toBe(true);
    // idempotent: asked again, still one sender
    expect((await call('PUT', 'configurePulse', { destinationIp: RTP.ip, port: RTP.port })).status).toBe(200);
    expect(await rtpSenders()).toBe(1);

    // another sink as the default: the app follows it (PulseAudio moves streams that follow the default), and so do
    // the listener's capture and the RTP sender
    await pulse.pactl('load-module', 'module-null-sink', 'sink_name=hifi', 'rate=48000');
    expect(await call('POST', 'setAudioQuality', { sink: 'hifi' })).toEqual({
      status: 200,
      body: { code: 200, data: { command: 'pactl', args: ['set-default-sink', 'hifi'] } },
    });
    const afterQuality = Date.now() + 500;
    await waitFor('the tone heard after setAudioQuality', async () => loudSince(afterQuality), 5000);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(heard.filter((h) => h.at >= afterQuality + 300).every((h) => h.peak > 6000)).toBe(true);
    expect(await rtpSenders()).toBe(1);
    expect(await call('POST', 'setAudioQuality', { sink: 'nope' })).toEqual({ status: 404, body: { code: 404, data: 'Unknown sink nope' } });
  });
});
