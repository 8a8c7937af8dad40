import { createSocket } from 'node:dgram';
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startAgent, startPulse, waitFor, type PulseServer } from '@desktop-agents/tools/harness';

const TOKEN = 'sound-rtp-token-00000';
let pulse: PulseServer;

beforeAll(async () => {
  pulse = await startPulse();
});
afterAll(async () => {
  await pulse?.stop();
});

describe('RTP to a WebRTC gateway', () => {
  it('sends the desktop sink as RTP to the configured gateway, with one sender however often the agent starts', async () => {
    const port = await freePort();
    const gateway = createSocket('udp4');
    const packets: Buffer[] = [];
    gateway.on('message', (msg) => packets.push(msg));
    await new Promise<void>((resolve) => gateway.bind(port, '127.0.0.1', () => resolve()));
    const env = { AUTH_TOKEN: TOKEN, PULSE_SERVER: pulse.server, SOUND_RTP_DESTINATION: `127.0.0.1:${port}`, BROADCAST_SERVICE_URL: 'ws://127.0.0.1:9/' };
    try {
      for (let i = 0; i < 2; i++) {
        const agent = await startAgent('sound', { env });
        await agent.stop();
      }
      const agent = await startAgent('sound', { env });
      const senders = (await pulse.pactl('list', 'short', 'modules')).split('\n').filter((l) => l.includes('module-rtp-send'));
      expect(senders).toHaveLength(1);
      expect(senders[0]).toContain(`port=${port}`);
      const tone = Buffer.alloc(48000);
      for (let i = 0; i < tone.length / 2; i++) tone.writeInt16LE(Math.round(10000 * Math.sin(i / 3)), i * 2);
      const pacat = spawn('pacat', ['--playback', `--device=${pulse.sink}`, '--format=s16le', '--rate=24000', '--channels=1', '--raw'], {
        env: { ...process.env, ...pulse.env },
        stdio: ['pipe', 'ignore', 'ignore'],
      });
      pacat.stdin.end(tone);
      await waitFor('RTP packets', async () => packets.length > 10, 5000);
      // RTP version 2 in the first two bits
      expect(packets.every((p) => (p[0] ?? 0) >> 6 === 2)).toBe(true);
      await agent.stop();
    } finally {
      gateway.close();
    }
  });

  it('refuses a malformed gateway address at start', async () => {
    await expect(
      startAgent('sound', { env: { AUTH_TOKEN: TOKEN, PULSE_SERVER: pulse.server, SOUND_RTP_DESTINATION: 'gateway:port' }, timeoutMs: 5000 }),
    ).rejects.toThrow(/SOUND_RTP_DESTINATION/);
  });
});
