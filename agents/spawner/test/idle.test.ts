import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgent, startXvfb, waitFor, type RunningAgent, type XServer } from '@desktop-agents/tools/harness';
import { BusTab, spawnerEnv } from './session.js';

// Idle detection against a real X server: its own input idle time (MIT-SCREEN-SAVER), reset by xdotool's pointer
// and keyboard input as a VNC client's would be.
const TOKEN = 'spawner-idle-token-1';
const COOKIE = 'spawner-idle-cookie';
const IDLE_MS = 1500;
const home = mkdtempSync(join(tmpdir(), 'spawner-idle-'));
let x: XServer;
let bus: RunningAgent;
let spawner: RunningAgent;
let browser: BusTab;

const xdotool = (...args: string[]) => execFileSync('xdotool', args, { env: { ...process.env, DISPLAY: x.display } });
const idleEvents = () => browser.of<{ idle: boolean; idleMs?: number }>('desktop.idle');
/** The first desktop.idle with this state among those after the first `from`. */
const idleAfter = (from: number, idle: boolean) => async () =>
  idleEvents()
    .slice(from)
    .find((e) => e.idle === idle);
const idleNow = async () => {
  const res = await fetch(`${spawner.url}/spawner/idle`, { headers: { authorization: `Bearer ${TOKEN}` } });
  return { status: res.status, body: (await res.json()) as { code: number; data: { idleMs: number; lastInput: string } } };
};

beforeAll(async () => {
  x = await startXvfb();
  bus = await startAgent('broadcast', { env: { AUTH_TOKEN: TOKEN, BROADCAST_COOKIE: COOKIE } });
  browser = await BusTab.open(bus, { token: TOKEN });
  spawner = await startAgent('spawner', {
    env: spawnerEnv({ token: TOKEN, cookie: COOKIE, bus, display: x.display, home }, { SPAWNER_IDLE_MS: String(IDLE_MS) }),
  });
});
afterAll(async () => {
  browser?.close();
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
    const idle = await waitFor('desktop.idle true', idleAfter(start, true), IDLE_MS + 5000);
    expect(idle.idleMs).toBeGreaterThanOrEqual(IDLE_MS);
    expect((await idleNow()).body.data.idleMs).toBeGreaterThanOrEqual(IDLE_MS);

    const seen = idleEvents().length;
    xdotool('key', 'shift');
    await waitFor('desktop.idle false after a key', idleAfter(seen, false), 3000);

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
    await waitFor('desktop.idle false after a pointer move', idleAfter(again, false), 3000);
    expect(idleEvents().every((e) => (e.idle ? typeof e.idleMs === 'number' : e.idleMs === undefined))).toBe(true);
  });

  it('refuses a desktop.idle sent by a browser: only the spawner reports it', async () => {
    const forger = await BusTab.open(bus, { token: TOKEN });
    const seen = idleEvents().length;
    forger.send('desktop.idle', { idle: true, idleMs: 1 });
    await waitFor('refusal', async () => forger.of('error').length > 0, 3000);
    expect(forger.of('error')[0]).toMatchObject({ code: 'FORBIDDEN_METHOD', method: 'desktop.idle' });
    expect(idleEvents().slice(seen)).toEqual([]);
    forger.close();
  });
});
