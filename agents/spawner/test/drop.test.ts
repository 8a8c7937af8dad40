import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgent, startXvfb, waitFor, type RunningAgent, type XServer } from '@desktop-agents/tools/harness';
import { BusTab, spawnerEnv } from './session.js';
import { startXdndTarget, type XdndTarget } from './xdnd-target.js';

// A file dropped on the desktop's picture is offered with XDND to the window under that point: a real X client that
// takes drops (inside openbox's frame, as applications are) receives the file's URI; a window that takes none, or
// refuses, gets nothing and the sender is told why.
const TOKEN = 'spawner-drop-token-0001';
const COOKIE = 'spawner-drop-cookie';
const home = mkdtempSync(join(tmpdir(), 'spawner-drop-'));
let x: XServer;
let bus: RunningAgent;
let spawner: RunningAgent;
let browser: BusTab;
const targets: XdndTarget[] = [];
const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };

const drop = (body: unknown) => fetch(`${spawner.url}/spawner/drop`, { method: 'POST', headers: auth, body: JSON.stringify(body) });

/** A point inside the target's window, in root coordinates. */
async function inside(target: XdndTarget): Promise<{ x: number; y: number }> {
  const origin = await target.origin();
  return { x: origin.x + 50, y: origin.y + 50 };
}

beforeAll(async () => {
  x = await startXvfb({ windowManager: true });
  bus = await startAgent('broadcast', { env: { AUTH_TOKEN: TOKEN, BROADCAST_COOKIE: COOKIE } });
  browser = await BusTab.open(bus, { token: TOKEN });
  mkdirSync(join(home, 'Desktop'));
  writeFileSync(join(home, 'Desktop', 'report 1 é.txt'), 'dropped');
  symlinkSync('/etc/passwd', join(home, 'Desktop', 'outside'));
  spawner = await startAgent('spawner', { env: spawnerEnv({ token: TOKEN, cookie: COOKIE, bus, display: x.display, home }) });
  await waitFor('drag and drop ready', async () => spawner.logLines().some((l) => l['msg'] === 'X display connected'), 5000);
});
afterAll(async () => {
  for (const t of targets) t.close();
  browser?.close();
  await spawner?.stop();
  await bus?.stop();
  await x?.stop();
  rmSync(home, { recursive: true, force: true });
});

describe('dropping a file on the window under the cursor (XDND)', () => {
  it('offers the file as a text/uri-list to the XdndAware window at the point, which receives its URI', async () => {
    const target = await startXdndTarget(x.display);
    targets.push(target);
    const reply = await drop({ path: '~/Desktop/report 1 é.txt', ...(await inside(target)) });
    expect(reply.status, await reply.clone().text()).toBe(200);
    expect(((await reply.json()) as { data: unknown }).data).toEqual({ window: target.window, finished: true });
    expect(target.offered.at(-1)).toEqual(['text/uri-list']);
    expect(target.drops.at(-1)).toBe(`file://${join(home, 'Desktop', encodeURIComponent('report 1 é.txt'))}\r\n`);
    target.close();
  });

  it('takes the same drop from a browser over the bus (file.drop), and answers a refusal to that browser alone', async () => {
    const target = await startXdndTarget(x.display);
    targets.push(target);
    browser.send('file.drop', { path: 'Desktop/report 1 é.txt', ...(await inside(target)) });
    await waitFor('the drop received', async () => target.drops.length === 1, 5000);
    target.close();

    const refusing = await startXdndTarget(x.display, { accepts: false });
    targets.push(refusing);
    const seen = browser.frames.length;
    browser.send('file.drop', { path: 'Desktop/report 1 é.txt', ...(await inside(refusing)) });
    const error = await waitFor('the refusal', async () => browser.frames.slice(seen).find((f) => f.method === 'error'), 8000);
    expect(error.data).toMatchObject({ code: 'DROP_REFUSED', method: 'file.drop', message: expect.stringMatching(/refused the drop$/) });
    expect(refusing.drops).toEqual([]);
    refusing.close();
  });

  it('gives nothing to a window that takes no drops, and says so', async () => {
    const plain = await startXdndTarget(x.display, { aware: false });
    targets.push(plain);
    const reply = await drop({ path: '~/Desktop/report 1 é.txt', ...(await inside(plain)) });
    expect(reply.status).toBe(409);
    expect(((await reply.json()) as { data: string }).data).toMatch(/does not accept dropped files \(no XdndAware\)$/);
    expect(plain.drops).toEqual([]);
    plain.close();
  });

  it('refuses a path outside home (through a symlink, or ..) before any X message', async () => {
    const target = await startXdndTarget(x.display);
    targets.push(target);
    for (const path of ['~/Desktop/outside', '../../etc/passwd']) {
      const reply = await drop({ path, ...(await inside(target)) });
      expect(reply.status).toBe(409);
      expect(((await reply.json()) as { data: string }).data).toMatch(/cannot be dropped/);
    }
    expect(target.offered).toEqual([]);
    target.close();
  });
});
