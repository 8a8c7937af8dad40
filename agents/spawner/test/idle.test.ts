import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startAgent, startXvfb, waitFor, type RunningAgent, type XServer } from '@desktop-agents/tools/harness';

// Idle detection against a real X server: its own input idle time (MIT-SCREEN-SAVER), reset by xdotool's pointer
// and keyboard input as a VNC client's would be.
const TOKEN = 'spawner-idle-token-1';
const COOKIE = 'spawner-idle-cookie';
const IDLE_MS = 1500;
const home = mkdtempSync(join(tmpdir(), 'spawner-idle-'));
let x: XServer;
let bus: RunningAgent;
let spawner: RunningAgent;
let browser: WebSocket;
const events: Array<{ method: string; data?: unknown }> = [];

const xdotool = (...args: string[]) => execFileSync('xdotool', args, { env: { ...process.env, DISPLAY: x.display } });
const idleEvents = () => events.filter((e) => e.method === 'desktop.idle').map((e) => e.data as { idle: boolean; idleMs?: number });
const idleNow = async () => {
  const res = await fetch(`${spawner.url}/spawner/idle`, { headers: { authorization: `Bearer ${TOKEN}` } });
  return { status: res.status, body: (await res.json()) as { code: number; data: { idleMs: number; lastInput: string } } };
};

beforeAll(async () => {
  x = await startXvfb();
  bus = await startAgent('broadcast', { env: { AUTH_TOKEN: TOKEN, BROADCAST_COOKIE: COOKIE } });
  browser = new WebSocket(`ws://127.0.0.1:${bus.port}/broadcast?jwt_token=${TOKEN}`);
  browser.on('message', (raw) => events.push(JSON.parse(raw.toString()) as { method: string; data?: unknown }));
  await new Promise((resolve) => browser.once('open', resolve));
  spawner = await startAgent('spawner', {
    env: {
      AUTH_TOKEN: TOKEN,
      BROADCAST_COOKIE: COOKIE,
      BROADCAST_SERVICE_TCP_PORT: String(bus.port),
      DISPLAY: x.display,
      HOME: home,
      SPAWNER_PID_FILE: join(home, 'spawner.pid'),
      SPAWNER_IDLE_MS: String(IDLE_MS),
      SPAWNER_DEFAULT_IMAGE: join(home, 'no-default.png'),
    },
  });
});
afterAll(async () => {
  browser?.terminate();
  await spawner?.stop();
  await bus?.stop();
  await x?.stop();
  rmSync(home, { recursive: true, force: true });
});

describe('idle detection', () => {
  it('answers the X server idle time on GET /spawner/idle, reset by pointer input, behind auth', async () => {
    xdotool('mousemove', '10', '10');
    const before = Date.now();
    const { status, body } = await idleNow();
    expect(status).toBe(200);
    expect(body.code).toBe(200);
    expect(body.data.idleMs).toBeLessThan(1000);
    expect(Number(body.data.lastInput)).toBeGreaterThan(before - 2000);
    expect(Number(body.data.lastInput)).toBeLessThanOrEqual(Date.now());
    expect((await fetch(`${spawner.url}/spawner/idle`)).status).toBe(401);
  });

  it('publishes desktop.idle after SPAWNER_IDLE_MS without input, and idle false at the next key or pointer move', async () => {
    xdotool('mousemove', '20', '20');
    // the desktop may have gone idle before this test (X was started first): count from the input
    const start = idleEvents().length;
    await waitFor('desktop.idle false or already active', async () => idleNow().then((n) => n.body.data.idleMs < IDLE_MS), 3000);
    const idle = await waitFor(
      'desktop.idle true',
      async () =>
        idleEvents()
          .slice(start)
          .find((e) => e.idle),
      IDLE_MS + 5000,
    );
    expect(idle.idleMs).toBeGreaterThanOrEqual(IDLE_MS);
    expect((await idleNow()).body.data.idleMs).toBeGreaterThanOrEqual(IDLE_MS);

    const seen = idleEvents().length;
    xdotool('key', 'shift');
    await waitFor(
      'desktop.idle false after a key',
      async () =>
        idleEvents()
          .slice(seen)
          .find((e) => !e.idle),
      3000,
    );

    await waitFor(
      'idle again',
      async () =>
        idleEvents()
          .slice(seen)
          .filter((e) => e.idle).length === 1,
      IDLE_MS + 5000,
    );
    const again = idleEvents().length;
    xdotool('mousemove', '200', '200');
    await waitFor(
      'desktop.idle false after a pointer move',
      async () =>
        idleEvents()
          .slice(again)
          .find((e) => !e.idle),
      3000,
    );
    expect(idleEvents().every((e) => (e.idle ? typeof e.idleMs === 'number' : e.idleMs === undefined))).toBe(true);
  });

  it('refuses a desktop.idle sent by a browser: only the spawner reports it', async () => {
    const errors: unknown[] = [];
    const forger = new WebSocket(`ws://127.0.0.1:${bus.port}/broadcast?jwt_token=${TOKEN}`);
    forger.on('message', (raw) => {
      const frame = JSON.parse(raw.toString()) as { method: string; data?: unknown };
      if (frame.method === 'error') errors.push(frame.data);
    });
    await new Promise((resolve) => forger.once('open', resolve));
    const seen = idleEvents().length;
    forger.send(JSON.stringify({ method: 'desktop.idle', data: { idle: true, idleMs: 1 } }));
    await waitFor('refusal', async () => errors.length > 0, 3000);
    expect(errors[0]).toMatchObject({ code: 'FORBIDDEN_METHOD', method: 'desktop.idle' });
    expect(idleEvents().slice(seen)).toEqual([]);
    forger.terminate();
  });
});
