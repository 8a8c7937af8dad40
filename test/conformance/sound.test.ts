// ../shared/spec/sound.md (the parts our agent serves today) as black-box tests against the built agent and a real
// PulseAudio, in abcdesktop mode and token mode: the original proxy's path for the sink's monitor.
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgent, startPulse, type PulseServer, type RunningAgent } from '@desktop-agents/tools/harness';
import { call, MODES } from './modes.js';

let pulse: PulseServer;
beforeAll(async () => {
  pulse = await startPulse();
});
afterAll(async () => pulse?.stop());

describe.each(MODES)('sound in $name mode', (mode) => {
  let sound: RunningAgent;
  beforeAll(async () => {
    sound = await startAgent('sound', { env: { ...mode.env, PULSE_SERVER: `unix:${pulse.socket}` } });
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
