// ../shared/spec/sound.md (the parts our agent serves) as black-box tests against the built agent and a real
// PulseAudio, in abcdesktop mode and token mode: the original proxy's path for the sink's monitor, and abcdesktop
// 4.x's speaker and microphone ports.
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startAgent, startPulse, type PulseServer, type RunningAgent } from '@desktop-agents/tools/harness';
import { call, MODES } from './modes.js';

let pulse: PulseServer;
beforeAll(async () => {
  pulse = await startPulse();
});
afterAll(async () => pulse?.stop());

describe.each(MODES)('sound in $name mode', (mode) => {
  let sound: RunningAgent;
  let speakerPort: number;
  let microphonePort: number;
  beforeAll(async () => {
    speakerPort = await freePort();
    microphonePort = await freePort();
    sound = await startAgent('sound', {
      env: {
        ...mode.env,
        PULSE_SERVER: `unix:${pulse.socket}`,
        SOUND_SPEAKER_TCP_PORT: String(speakerPort),
        SOUND_MICROPHONE_TCP_PORT: String(microphonePort),
      },
    });
  });
  afterAll(async () => sound?.stop());

  it('streams the desktop sink on /listen/source/<sink>.monitor: a format frame, then binary audio', async () => {
    const query = mode.wsQuery();
    const ws = new WebSocket(`ws://127.0.0.1:${sound.port}/listen/source/desktop.monitor${query ? `?${query}` : ''}`);
    const frames: Array<{ binary: boolean; data: Buffer }> = [];
    ws.on('message', (data, isBinary) => frames.push({ binary: isBinary, data: data as Buffer }));
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const deadline = Date.now() + 5000;
    while (frames.filter((f) => f.binary).length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    ws.close();
    expect(frames[0]?.binary).toBe(false);
    expect(JSON.parse(frames[0]?.data.toString() ?? '{}')).toMatchObject({
      type: 'format',
      format: 's16le',
      rate: expect.any(Number),
      channels: expect.any(Number),
    });
    expect(frames.filter((f) => f.binary).length).toBeGreaterThanOrEqual(3);
  });

  // spec: abcdesktop 4.x audio. The router sends /sound to 29788 and /microphone to 29789, with ?jwt_token=
  it("serves 4.x's speaker: MPEG-TS in binary frames that start on 188-byte packets (0x47)", async () => {
    const query = mode.wsQuery();
    const ws = new WebSocket(`ws://127.0.0.1:${speakerPort}/sound${query ? `?${query}` : ''}`);
    const frames: Array<{ binary: boolean; data: Buffer }> = [];
    ws.on('message', (data, isBinary) => frames.push({ binary: isBinary, data: data as Buffer }));
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const deadline = Date.now() + 8000;
    while (frames.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    ws.close();
    expect(frames.length).toBeGreaterThanOrEqual(3);
    for (const f of frames) {
      expect(f.binary).toBe(true);
      expect(f.data.length % 188).toBe(0);
      expect(f.data[0]).toBe(0x47);
    }
  });

  it('takes 4.x\'s microphone: raw float32 messages of 128 samples without a format frame, into the source "microphone"', async () => {
    expect(await pulse.pactl('list', 'short', 'sources')).toMatch(/\bmicrophone\t/);
    const query = mode.wsQuery();
    const ws = new WebSocket(`ws://127.0.0.1:${microphonePort}/microphone${query ? `?${query}` : ''}`);
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    for (let n = 0; n < 50; n++) ws.send(Buffer.alloc(512));
    await new Promise((r) => setTimeout(r, 300));
    expect(ws.readyState).toBe(WebSocket.OPEN);
    expect(await pulse.pactl('list', 'short', 'sink-inputs')).toMatch(/float32le 1ch 44100Hz/);
    ws.close();
  });

  it('answers its control routes in JSON', async () => {
    const sinks = await call(sound.url, 'GET', '/sound/sinks', { headers: mode.headers });
    expect(sinks.status).toBe(200);
    expect(JSON.stringify(sinks.body)).toContain('desktop');
  });
});

describe('sound in token mode without a token', () => {
  let sound: RunningAgent;
  beforeAll(async () => {
    sound = await startAgent('sound', { env: { ...MODES[1]!.env, PULSE_SERVER: `unix:${pulse.socket}` } });
  });
  afterAll(async () => sound?.stop());

  it('closes the stream with 1008 and refuses the control routes with 401', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${sound.port}/listen/source/desktop.monitor`);
    ws.on('error', () => {});
    const [code, reason] = await new Promise<[number, string]>((resolve) => ws.once('close', (c, r) => resolve([c, r.toString()])));
    expect([code, reason]).toEqual([1008, 'unauthorized']);
    expect((await call(sound.url, 'GET', '/sound/sinks')).status).toBe(401);
  });
});
