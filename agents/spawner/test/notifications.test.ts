import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  requireCommand,
  startAgent,
  startDbusSession,
  startProcess,
  startXvfb,
  waitFor,
  type DbusSession,
  type RunningAgent,
  type XServer,
} from '@desktop-agents/tools/harness';
import { BusTab, runInBackground, spawnerEnv } from './session.js';

// The spawner as the desktop's notification server on a private session D-Bus: notify-send (libnotify, the
// reference client) and gdbus against it, the bus frames a browser sees, and an action clicked in the browser
// reaching the application that asked.
const TOKEN = 'spawner-notify-token-1';
const COOKIE = 'spawner-notify-cookie';
const home = mkdtempSync(join(tmpdir(), 'spawner-notify-'));
let x: XServer;
let dbus: DbusSession;
let bus: RunningAgent;
let spawner: RunningAgent;
let browser: BusTab;

interface Shown {
  id: number;
  app: string;
  summary: string;
  body: string;
  urgency: string;
  timeoutMs: number;
  actions: Array<{ key: string; label: string }>;
}
const shown = () => browser.of<Shown>('notification');
const closed = () => browser.of<{ id: number; reason: string }>('notification.closed');
const env = () => ({ ...process.env, ...dbus.env });
const run = promisify(execFile);
const gdbus = (...args: string[]) =>
  run(
    requireCommand('gdbus', 'libglib2.0-bin'),
    ['call', '--session', '--dest', 'org.freedesktop.Notifications', '--object-path', '/org/freedesktop/Notifications', ...args],
    {
      env: env(),
    },
  );

beforeAll(async () => {
  requireCommand('notify-send', 'libnotify-bin');
  x = await startXvfb();
  dbus = await startDbusSession();
  bus = await startAgent('broadcast', { env: { AUTH_TOKEN: TOKEN, BROADCAST_COOKIE: COOKIE } });
  browser = await BusTab.open(bus, { token: TOKEN });
  spawner = await startAgent('spawner', {
    env: spawnerEnv({ token: TOKEN, cookie: COOKIE, bus, display: x.display, home }, { DBUS_SESSION_BUS_ADDRESS: dbus.address }),
  });
  await waitFor('notification server', async () => spawner.logLines().some((l) => l['msg'] === 'notification server on the session bus'), 10_000);
});
afterAll(async () => {
  browser?.close();
  await spawner?.stop();
  await bus?.stop();
  await dbus?.stop();
  await x?.stop();
  rmSync(home, { recursive: true, force: true });
});

describe('desktop notifications', () => {
  it('answers GetServerInformation and GetCapabilities as the session bus notification server', async () => {
    expect((await gdbus('--method', 'org.freedesktop.Notifications.GetServerInformation')).stdout).toContain("'desktop-agents spawner'");
    expect((await gdbus('--method', 'org.freedesktop.Notifications.GetCapabilities')).stdout).toContain("'actions'");
  });

  it('turns notify-send into a notification frame, and its expiry into notification.closed', async () => {
    await run('notify-send', ['-a', 'mail', '-u', 'critical', '-t', '700', 'New mail', 'From: Alice'], { env: env() });
    const n = await waitFor('notification frame', async () => shown().find((s) => s.summary === 'New mail'), 5000);
    expect(n).toMatchObject({ app: 'mail', body: 'From: Alice', urgency: 'critical', timeoutMs: 700, actions: [] });
    expect(await waitFor('expired', async () => closed().find((c) => c.id === n.id), 5000)).toEqual({ id: n.id, reason: 'expired' });
  });

  it('delivers an action clicked in the browser to the application (notify-send --action), then closes it', async () => {
    const app = runInBackground('notify-send', ['-A', 'open=Open it', '-A', 'later=Later', '-t', '0', 'Update ready', 'Restart now?'], env());
    const n = await waitFor('notification with actions', async () => shown().find((s) => s.summary === 'Update ready'), 5000);
    expect(n.actions).toEqual([
      { key: 'open', label: 'Open it' },
      { key: 'later', label: 'Later' },
    ]);
    expect(n.timeoutMs).toBe(0);
    // an unknown action is ignored: the application is still waiting
    browser.send('notification.action', { id: n.id, key: 'delete-everything' });
    browser.send('notification.action', { id: n.id, key: 'open' });
    const { code, stdout } = await app;
    expect(code).toBe(0);
    expect(stdout.trim()).toBe('open');
    expect(await waitFor('closed as dismissed', async () => closed().find((c) => c.id === n.id), 5000)).toEqual({ id: n.id, reason: 'dismissed' });
  });

  it('closes on CloseNotification, and a replacement keeps its id', async () => {
    const { stdout } = await run('notify-send', ['-p', '-t', '0', 'Downloading', '10%'], { env: env() });
    const id = Number(stdout.trim());
    await waitFor('first', async () => shown().find((s) => s.id === id && s.body === '10%'), 5000);
    await run('notify-send', ['-r', String(id), '-t', '0', 'Downloading', '90%'], { env: env() });
    await waitFor('replaced', async () => shown().find((s) => s.id === id && s.body === '90%'), 5000);
    await gdbus('--method', 'org.freedesktop.Notifications.CloseNotification', String(id));
    expect(await waitFor('closed', async () => closed().find((c) => c.id === id), 5000)).toEqual({ id, reason: 'closed' });
  });

  it('refuses notification events from a browser and notification.action from an agent', async () => {
    const forger = await BusTab.open(bus, { token: TOKEN });
    const agent = await BusTab.open(bus, { cookie: COOKIE });
    const errors = () => [...forger.of<{ code: string; method: string }>('error'), ...agent.of<{ code: string; method: string }>('error')];
    forger.send('notification', { id: 999, summary: 'phishing' });
    agent.send('notification.action', { id: 1, key: 'open' });
    await waitFor('two refusals', async () => errors().length === 2, 3000);
    expect(
      errors()
        .map((e) => [e.code, e.method])
        .sort(),
    ).toEqual([
      ['FORBIDDEN_METHOD', 'notification'],
      ['FORBIDDEN_METHOD', 'notification.action'],
    ]);
    expect(shown().some((s) => s.id === 999)).toBe(false);
    forger.close();
    agent.close();
  });
});

describe('a session bus that comes after the spawner (a pod whose containers start in any order)', () => {
  it('becomes the notification server once the bus is there', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spawner-late-dbus-'));
    const address = `unix:path=${join(dir, 'bus')}`;
    const late = await startAgent('spawner', {
      env: spawnerEnv(
        { token: TOKEN, cookie: COOKIE, bus, display: x.display, home },
        { DBUS_SESSION_BUS_ADDRESS: address, SPAWNER_PID_FILE: join(dir, 'pid') },
      ),
    });
    const daemon = startProcess('late dbus-daemon', requireCommand('dbus-daemon', 'dbus-daemon'), [
      '--session',
      '--nofork',
      '--nopidfile',
      `--address=${address}`,
    ]);
    try {
      await waitFor('the late notification server', async () => late.logLines().some((l) => l['msg'] === 'notification server on the session bus'), 15_000);
    } finally {
      await late.stop();
      await daemon.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
