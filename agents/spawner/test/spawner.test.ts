import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  processAlive as alive,
  startAgent,
  startPulse,
  startXvfb,
  waitFor,
  type PulseServer,
  type RunningAgent,
  type XServer,
} from '@desktop-agents/tools/harness';

const TOKEN = 'spawner-test-token-123';
const COOKIE = 'spawner-cookie';
const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
const home = mkdtempSync(join(tmpdir(), 'spawner-home-'));
const text = (program: string) => ({ program, args: 'text' });
const COMMANDS = {
  'xmessage.Xmessage': text('/usr/bin/xmessage'),
  'echo.Echo': text('/bin/echo'),
  'touch.Touch': text('/usr/bin/touch'),
  'sleep.Sleep': text('/bin/sleep'),
};
let x: XServer;
let pulse: PulseServer;
const RTP = '127.0.0.1:46000';
let bus: RunningAgent;
let spawner: RunningAgent;
let listener: WebSocket;
const events: Array<{ method: string; data?: unknown }> = [];

interface Win {
  id: number;
  pid: number | null;
  wm_class: string;
  title: string;
  machine_name: string;
}

const post = async (path: string, body: unknown) => {
  const res = await fetch(`${spawner.url}/spawner/${path}`, { method: 'POST', headers: auth, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};
const windows = async () => ((await (await fetch(`${spawner.url}/spawner/getwindowslist`, { headers: auth })).json()) as { data: Win[] }).data;
const xprop = (...args: string[]) => execFileSync('xprop', ['-display', x.display, ...args], { encoding: 'utf8' });

async function launchMessage(text: string): Promise<{ pid: number; window: Win }> {
  const before = new Set((await windows()).map((w) => w.id));
  const res = await post('launch', { command: 'xmessage.Xmessage', args: [text] });
  expect(res.status).toBe(200);
  const pid = (res.body['proc'] as { pid: number }).pid;
  const window = await waitFor('window listed', async () => (await windows()).find((w) => !before.has(w.id)), 5000);
  return { pid, window };
}

beforeAll(async () => {
  x = await startXvfb({ windowManager: true });
  pulse = await startPulse();
  bus = await startAgent('broadcast', { env: { AUTH_TOKEN: TOKEN, BROADCAST_COOKIE: COOKIE } });
  listener = new WebSocket(`ws://127.0.0.1:${bus.port}/broadcast?jwt_token=${TOKEN}`);
  listener.on('message', (raw) => events.push(JSON.parse(raw.toString()) as { method: string; data?: unknown }));
  await new Promise((resolve) => listener.once('open', resolve));
  spawner = await startAgent('spawner', {
    env: {
      AUTH_TOKEN: TOKEN,
      BROADCAST_COOKIE: COOKIE,
      BROADCAST_SERVICE_TCP_PORT: String(bus.port),
      DISPLAY: x.display,
      HOME: home,
      SPAWNER_PID_FILE: join(home, 'spawner.pid'),
      SPAWNER_COMMANDS: JSON.stringify(COMMANDS),
      ACCEPTCUTTEXT: 'true',
      XAUTH_KEY: 'secret-xauth',
      PULSE_SERVER: pulse.server,
      SPAWNER_RTP_DESTINATION: RTP,
      SPAWNER_DEFAULT_IMAGE: join(home, 'no-default.png'),
    },
  });
});
afterAll(async () => {
  listener?.terminate();
  await spawner?.stop();
  await bus?.stop();
  await x?.stop();
  await pulse?.stop();
  rmSync(home, { recursive: true, force: true });
});

describe('windows on a real X display', () => {
  it('launches an app whose window shows in getwindowslist and in a window.list broadcast', async () => {
    const { pid, window } = await launchMessage('hello from the spawner');
    expect(window).toMatchObject({ wm_class: 'xmessage.Xmessage', title: 'xmessage' });
    expect(alive(pid)).toBe(true);
    await waitFor('window.list with it', async () => events.some((e) => e.method === 'window.list' && (e.data as Win[]).some((w) => w.id === window.id)), 5000);
    expect(events.some((e) => e.method === 'proc.started' && (e.data as { pid: number }).pid === pid)).toBe(true);
  });

  it('activates a window: _NET_ACTIVE_WINDOW changes to it', async () => {
    const a = await launchMessage('first');
    const b = await launchMessage('second');
    expect(await post('activatewindows', { windowsid: [a.window.id] })).toEqual({ status: 200, body: { code: 200, data: 'ok' } });
    await waitFor('a active', async () => xprop('-root', '_NET_ACTIVE_WINDOW').includes(`0x${a.window.id.toString(16)}`), 3000);
    await post('activatewindows', { windowsid: [b.window.id] });
    await waitFor('b active', async () => xprop('-root', '_NET_ACTIVE_WINDOW').includes(`0x${b.window.id.toString(16)}`), 3000);
  });

  it('closes a window: it leaves the list, its process exits and proc.killed is broadcast', async () => {
    const { pid, window } = await launchMessage('close me');
    expect(await post('closewindows', { windowsid: [window.id] })).toEqual({ status: 200, body: { code: 200, data: 'ok' } });
    await waitFor('window gone', async () => !(await windows()).some((w) => w.id === window.id), 5000);
    await waitFor('process gone', async () => !alive(pid), 5000);
    await waitFor('proc.killed', async () => events.some((e) => e.method === 'proc.killed' && (e.data as { pid: number }).pid === pid), 5000);
  });

  it('tiles every window with placeAllWindows', async () => {
    await launchMessage('tile');
    expect(await post('placeAllWindows', {})).toEqual({ status: 200, body: { code: 200, data: 'ok' } });
  });

  it('publishes window.list on SIGUSR1 from the window manager, with the pid file it reads', async () => {
    const pid = Number(readFileSync(join(home, 'spawner.pid'), 'utf8'));
    expect(pid).toBe(spawner.process.pid);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const count = () => events.filter((e) => e.method === 'window.list').length;
    const before = count();
    // the list did not change: only the signal makes it go out again
    process.kill(pid, 'SIGUSR1');
    await waitFor('window.list after SIGUSR1', async () => count() === before + 1, 3000);
    const started = Date.now();
    process.kill(pid, 'SIGUSR2');
    await waitFor('window.list after SIGUSR2', async () => count() === before + 2, 3000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });
});

describe('validation in the abcdesktop shape', () => {
  it('rejects bad windowsid bodies and unknown windows with 422', async () => {
    const cases: Array<[unknown, unknown]> = [
      [{}, [{ location: 'body', param: 'windowsid', msg: 'No windowsid provided' }]],
      [{ windowsid: [] }, [{ location: 'body', param: 'windowsid', value: [], msg: 'Windowsid must be an array of windowid not empty' }]],
      [{ windowsid: 'x' }, [{ location: 'body', param: 'windowsid', value: 'x', msg: 'Windowsid must be an array of windowid not empty' }]],
      [{ windowsid: [1, 'a'] }, [{ location: 'body', param: 'windowsid', value: [1, 'a'], msg: 'All windowsid must be number' }]],
      [{ windowsid: [424242] }, [{ location: 'body', param: 'windowsid', value: [424242], msg: 'Unknow window_id [424242]' }]],
    ];
    for (const path of ['activatewindows', 'closewindows']) {
      for (const [body, errors] of cases) expect(await post(path, body), `${path} ${JSON.stringify(body)}`).toEqual({ status: 422, body: { errors } });
    }
  });

  it('rejects bad launch bodies with the spec messages', async () => {
    expect(await post('launch', {})).toEqual({ status: 422, body: { errors: [{ location: 'body', param: 'command', msg: 'No command provided' }] } });
    expect(await post('launch', { command: 3 })).toEqual({
      status: 422,
      body: { errors: [{ location: 'body', param: 'command', value: 3, msg: 'Command must be a string' }] },
    });
    expect(await post('launch', { command: '/bin/sh' })).toEqual({
      status: 422,
      body: { errors: [{ location: 'body', param: 'command', value: '/bin/sh', msg: 'Command must be a valid handled command' }] },
    });
    expect((await post('launch', { command: 'echo.Echo', args: [] })).body).toEqual({
      errors: [{ location: 'body', param: 'args', value: [], msg: 'Args must be an array of string not empty' }],
    });
    expect((await post('launch', { command: 'echo.Echo', args: null })).body).toEqual({
      errors: [{ location: 'body', param: 'args', value: null, msg: 'No args provided' }],
    });
  });

  it('rejects bad colors and keys', async () => {
    expect((await post('setBackgroundColor', {})).body).toEqual({ errors: [{ location: 'body', param: 'color', msg: 'No color provided' }] });
    // spec: not a hex color at all, then a hex color of the wrong form; a key leaving the store is not found
    expect((await post('setBackgroundColor', { color: '#12345' })).body).toEqual({
      errors: [{ location: 'body', param: 'color', value: '#12345', msg: 'Color must be a string hexa' }],
    });
    expect((await post('setBackgroundColor', { color: '000000' })).body).toEqual({
      errors: [{ location: 'body', param: 'color', value: '000000', msg: 'Bad color hexa pattern' }],
    });
    expect(await post('setDesktop', { key: '../x', value: 'v' })).toEqual({ status: 404, body: { code: 404, data: 'Not found' } });
    expect((await post('setDesktop', { key: 'k' })).body).toEqual({ errors: [{ location: 'body', param: 'value', msg: 'No value provided' }] });
  });
});

describe('no shell, settings, secrets', () => {
  it('runs argv without a shell: `; rm -rf` and `$(...)` stay plain arguments', async () => {
    const victim = join(home, 'victim.txt');
    const injected = join(home, 'injected');
    writeFileSync(victim, 'still here');
    // relative names: touch runs in HOME and creates files named exactly like the arguments
    const res = await post('launch', { command: 'touch.Touch', args: ['; rm -rf victim.txt', '$(touch injected)', '`touch injected`'] });
    expect(res.status).toBe(200);
    const made = ['; rm -rf victim.txt', '$(touch injected)', '`touch injected`'].map((name) => join(home, name));
    await waitFor('touch done', async () => made.every((path) => existsSync(path)), 3000);
    expect(readFileSync(victim, 'utf8')).toBe('still here');
    expect(existsSync(injected)).toBe(false);
    expect(existsSync(join(home, '$(touch injected)'))).toBe(true);
    expect(existsSync(join(home, '`touch injected`'))).toBe(true);
  });

  it('sets the root background and announces the color', async () => {
    expect(await post('setBackgroundColor', { color: '#00ff00' })).toEqual({ status: 200, body: { code: 200, data: 'ok' } });
    await waitFor('color event', async () => events.some((e) => e.method === 'display.setBackgroundBorderColor' && e.data === '#00ff00'), 3000);
    expect(readFileSync(join(home, '.store', 'currentImgColor'), 'utf8')).toBe('#00ff00');
  });

  it('stores and reads desktop settings; 404 for a missing key', async () => {
    expect(await post('setDesktop', { key: 'theme', value: 'dark' })).toEqual({ status: 200, body: { code: 200, data: 'ok' } });
    const got = await fetch(`${spawner.url}/spawner/getDesktop?key=theme`, { headers: auth });
    expect(await got.json()).toEqual({ code: 200, data: 'dark' });
    expect(readFileSync(join(home, '.store', 'theme'), 'utf8')).toBe('dark');
    const missing = await fetch(`${spawner.url}/spawner/getDesktop?key=nothing`, { headers: auth });
    expect([missing.status, await missing.json()]).toEqual([404, { code: 404, data: 'Not found' }]);
  });

  it('getenv shows only the allow-list, never secrets', async () => {
    const { env } = (await (await fetch(`${spawner.url}/spawner/getenv`, { headers: auth })).json()) as { env: Record<string, string> };
    expect(env).toEqual({ ACCEPTCUTTEXT: 'true' });
  });

  it('serves its OpenAPI document from the route schemas, and requires the token', async () => {
    const doc = (await (await fetch(`${spawner.url}/spawner/openapi.json`, { headers: auth })).json()) as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/spawner/launch', '/spawner/getwindowslist', '/spawner/closewindows']));
    expect((await fetch(`${spawner.url}/spawner/getwindowslist`)).status).toBe(401);
  });
});

describe('readiness and shutdown', () => {
  it('kills what it launched on SIGTERM, removes its pid file and exits 0', async () => {
    const res = await post('launch', { command: 'sleep.Sleep', args: ['1000'] });
    const pid = (res.body['proc'] as { pid: number }).pid;
    const { pid: messagePid } = await launchMessage('bye');
    expect(await spawner.stop()).toEqual({ code: 0, signal: null });
    await waitFor('children gone', async () => !alive(pid) && !alive(messagePid), 5000);
    expect(existsSync(join(home, 'spawner.pid'))).toBe(false);
  });

  it('is ready only while the X display answers, and reconnects when it comes back', async () => {
    spawner = await startAgent('spawner', {
      env: { AUTH_TOKEN: TOKEN, DISPLAY: x.display, HOME: home, SPAWNER_PID_FILE: join(home, 'spawner.pid'), BROADCAST_SERVICE_TCP_PORT: String(bus.port) },
    });
    expect((await spawner.get('/readyz')).status).toBe(200);
    const number = Number(x.display.slice(1));
    await x.stop();
    await waitFor('not ready', async () => (await spawner.get('/readyz')).status === 503, 5000);
    expect((await spawner.get('/healthz')).status).toBe(200);
    expect((await spawner.get('/spawner/getwindowslist', auth)).body).toEqual({ code: 503, data: `X display :${number} is not available` });
    x = await startXvfb({ windowManager: true, displayNumber: number });
    await waitFor('ready again', async () => (await spawner.get('/readyz')).status === 200, 10_000);
    expect(((await spawner.get('/spawner/getwindowslist', auth)).body as { code: number }).code).toBe(200);
  });

  it('starts before its X display exists (pod start order) and becomes ready when it appears', async () => {
    await spawner.stop();
    const number = 4000 + Math.floor(Math.random() * 500);
    spawner = await startAgent('spawner', {
      awaitReady: false,
      env: { AUTH_TOKEN: TOKEN, DISPLAY: `:${number}`, HOME: home, SPAWNER_PID_FILE: join(home, 'spawner.pid'), BROADCAST_SERVICE_TCP_PORT: String(bus.port) },
    });
    expect((await spawner.get('/readyz')).status).toBe(503);
    const late = await startXvfb({ displayNumber: number });
    try {
      await waitFor('ready', async () => (await spawner.get('/readyz')).status === 200, 10_000);
    } finally {
      await spawner.stop();
      await late.stop();
    }
  });
});
