import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import x11 from 'x11';
import type { XDisplay } from 'x11';
import { noisePng, startAgent, startXvfb, waitFor, type RunningAgent, type XServer } from '@desktop-agents/tools/harness';
import { BusTab, spawnerEnv } from './session.js';

// The clipboard between a real X server and the bus, both ways, against real X clients (xclip, xsel, a raw x11
// client that never answers), text and a 5 MiB PNG (INCR both ways), and each policy switch.
const TOKEN = 'spawner-clipboard-token-1';
const COOKIE = 'spawner-clipboard-cookie';
const home = mkdtempSync(join(tmpdir(), 'spawner-clipboard-'));
let x: XServer;
let bus: RunningAgent;
let spawner: RunningAgent | undefined;
let browser: BusTab;
const owners: ChildProcess[] = [];

type Changed = { mime: string; text?: string; base64?: string; bytes: number };
const changes = () => browser.of<Changed>('clipboard.changed');
const errors = () => browser.of<{ code: string; message: string }>('error');
const env = () => ({ ...process.env, DISPLAY: x.display });
const xclipOut = (...args: string[]) => execFileSync('xclip', ['-o', ...args], { env: env(), timeout: 5000, maxBuffer: 64 * 1024 * 1024 });

/** An X client owning a selection with `data` (xclip -quiet stays in the foreground: killed after each test). */
function ownWithXclip(selection: string, data: Buffer, target?: string): void {
  const owner = spawn('xclip', ['-quiet', '-i', '-selection', selection, ...(target ? ['-t', target] : [])], {
    env: env(),
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  owner.stdin.end(data);
  owners.push(owner);
}

const startSpawner = (extra: Record<string, string> = {}) =>
  startAgent('spawner', { env: spawnerEnv({ token: TOKEN, cookie: COOKIE, bus, display: x.display, home }, extra) });

const send = (data: unknown) => browser.send('clipboard.set', data);

beforeAll(async () => {
  x = await startXvfb();
  bus = await startAgent('broadcast', { env: { AUTH_TOKEN: TOKEN, BROADCAST_COOKIE: COOKIE } });
  browser = await BusTab.open(bus, { token: TOKEN });
});
afterEach(() => {
  for (const owner of owners.splice(0)) owner.kill();
});
afterAll(async () => {
  browser?.close();
  await spawner?.stop();
  await bus?.stop();
  await x?.stop();
  rmSync(home, { recursive: true, force: true });
});

describe('clipboard with the default policy', () => {
  beforeAll(async () => {
    spawner = await startSpawner();
    await waitFor('clipboard ready', async () => spawner?.logLines().some((l) => l['msg'] === 'X display connected'), 5000);
  });
  afterAll(async () => {
    await spawner?.stop();
    spawner = undefined;
  });

  it('publishes text an X client copies to CLIPBOARD', async () => {
    const seen = changes().length;
    ownWithXclip('clipboard', Buffer.from('copied in the desktop ✓'));
    const changed = await waitFor('clipboard.changed', async () => changes().slice(seen)[0], 5000);
    expect(changed).toEqual({ mime: 'text/plain', text: 'copied in the desktop ✓', bytes: Buffer.byteLength('copied in the desktop ✓') });
  });

  it('publishes a 5 MiB PNG an X client copies (read by INCR), byte-exact', async () => {
    const png = noisePng(5 * 1024 * 1024);
    const seen = changes().length;
    ownWithXclip('clipboard', png, 'image/png');
    const changed = await waitFor('clipboard.changed png', async () => changes().slice(seen)[0], 15_000);
    expect(changed.mime).toBe('image/png');
    expect(changed.bytes).toBe(png.length);
    expect(Buffer.from(changed.base64 ?? '', 'base64').equals(png)).toBe(true);
  });

  it("owns a browser's text on CLIPBOARD and PRIMARY for xclip and xsel", async () => {
    send({ mime: 'text/plain', text: 'pasted from the browser ✓' });
    await waitFor('CLIPBOARD', async () => xclipOut('-selection', 'clipboard').toString() === 'pasted from the browser ✓', 5000);
    expect(xclipOut('-selection', 'primary').toString()).toBe('pasted from the browser ✓');
    expect(execFileSync('xsel', ['--clipboard', '--output'], { env: env(), timeout: 5000 }).toString()).toBe('pasted from the browser ✓');
    expect(xclipOut('-selection', 'clipboard', '-t', 'TARGETS').toString()).toContain('UTF8_STRING');
  });

  it("serves a browser's 5 MiB PNG to an X client (written by INCR), byte-exact", async () => {
    const png = noisePng(5 * 1024 * 1024);
    send({ mime: 'image/png', base64: png.toString('base64') });
    await waitFor('image/png offered', async () => xclipOut('-selection', 'clipboard', '-t', 'TARGETS').toString().includes('image/png'), 10_000).catch(
      (err: Error) => {
        throw new Error(`${err.message}\n${spawner?.process.output.split('\n').slice(-15).join('\n')}`);
      },
    );
    expect(xclipOut('-selection', 'clipboard', '-t', 'image/png').equals(png)).toBe(true);
  });

  it.each([
    ['malformed base64', { mime: 'image/png', base64: 'not*base64' }, 'valid base64'],
    ['a type outside CLIPBOARD_MIME_ALLOW', { mime: 'text/html', text: '<b>x</b>' }, 'not allowed'],
    ['an image over CLIPBOARD_MAX_BYTES', { mime: 'image/png', base64: Buffer.alloc(8.5 * 1024 * 1024, 1).toString('base64') }, 'CLIPBOARD_MAX_BYTES'],
    ['base64 that is not a PNG', { mime: 'image/png', base64: Buffer.from('GIF89a....').toString('base64') }, 'not a PNG'],
    ['no data', null, 'needs'],
  ])('refuses %s with a CLIPBOARD_REFUSED error frame to the sender alone', async (_name, data, reason) => {
    const seen = errors().length;
    send(data);
    const error = await waitFor('error frame', async () => errors().slice(seen)[0], 10_000);
    expect(error).toMatchObject({ code: 'CLIPBOARD_REFUSED' });
    expect(error.message).toContain(reason);
    expect((await spawner?.get('/healthz'))?.status).toBe(200);
  });

  it('closes a browser sending a 100 MiB image with 1009 at the bus; the spawner serves throughout', async () => {
    const big = new WebSocket(`ws://127.0.0.1:${bus.port}/broadcast?jwt_token=${TOKEN}`);
    await new Promise((resolve) => big.once('open', resolve));
    const closed = new Promise<number>((resolve) => big.once('close', (code) => resolve(code)));
    big.send(JSON.stringify({ method: 'clipboard.set', data: { mime: 'image/png', base64: 'A'.repeat(100 * 1024 * 1024) } }));
    expect(await closed).toBe(1009);
    expect((await spawner?.get('/healthz'))?.status).toBe(200);
  });

  it('gives up on a selection owner that never answers, and keeps serving the next copy', async () => {
    const display = await new Promise<XDisplay>((resolve, reject) => x11.createClient({ display: x.display }, (err, d) => (err ? reject(err) : resolve(d))));
    const client = display.client;
    const clipboardAtom = await new Promise<number>((resolve, reject) =>
      client.InternAtom(false, 'CLIPBOARD', (err, atom) => (err ? reject(err) : resolve(atom))),
    );
    const silent = client.AllocID();
    client.CreateWindow(silent, display.screen[0]?.root ?? 0, 0, 0, 1, 1, 0, 0, 2, 0, {});
    client.SetSelectionOwner(silent, clipboardAtom, 0); // and never answers a SelectionRequest
    await waitFor('spawner gave up on the silent owner', async () => spawner?.logLines().some((l) => l['msg'] === 'clipboard change not sent'), 10_000);
    expect((await spawner?.get('/healthz'))?.status).toBe(200);
    const seen = changes().length;
    ownWithXclip('clipboard', Buffer.from('after the silent owner'));
    expect(await waitFor('next copy published', async () => changes().slice(seen)[0], 8000)).toMatchObject({ text: 'after the silent owner' });
    client.terminate();
  });

  it('copies PRIMARY to CLIPBOARD on clipboardsync (abcdesktop) and tells the browsers', async () => {
    ownWithXclip('primary', Buffer.from('selected text'));
    await waitFor('primary', async () => xclipOut('-selection', 'primary').toString() === 'selected text', 3000);
    const seen = changes().length;
    const res = await fetch(`${spawner?.url}/spawner/clipboardsync`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(await res.json()).toEqual({ code: 200, data: 'ok' });
    await waitFor('clipboard', async () => xclipOut('-selection', 'clipboard').toString() === 'selected text', 5000);
    expect(xclipOut('-selection', 'secondary').toString()).toBe('selected text');
    expect(
      await waitFor(
        'published',
        async () =>
          changes()
            .slice(seen)
            .find((c) => c.text === 'selected text'),
        3000,
      ),
    ).toBeTruthy();
  });
});

describe('clipboard switched off both ways (SENDCUTTEXT=0, ACCEPTCUTTEXT=false)', () => {
  beforeAll(async () => {
    spawner = await startSpawner({ SENDCUTTEXT: '0', ACCEPTCUTTEXT: 'false' });
    await waitFor('clipboard ready', async () => spawner?.logLines().some((l) => l['msg'] === 'X display connected'), 5000);
  });

  it('sends nothing of a desktop copy to the browsers', async () => {
    const seen = changes().length;
    ownWithXclip('clipboard', Buffer.from('secret in the desktop'));
    await waitFor('refusal logged', async () => spawner?.logLines().some((l) => String(l['msg']).includes('SENDCUTTEXT is off')), 5000);
    expect(changes().slice(seen)).toEqual([]);
  });

  it("refuses a browser's paste with its reason, and leaves the desktop's clipboard alone", async () => {
    ownWithXclip('clipboard', Buffer.from('kept'));
    await waitFor('kept', async () => xclipOut('-selection', 'clipboard').toString() === 'kept', 3000);
    const seen = errors().length;
    send({ mime: 'text/plain', text: 'not allowed in' });
    const error = await waitFor('error frame', async () => errors().slice(seen)[0], 5000);
    expect(error).toMatchObject({ code: 'CLIPBOARD_REFUSED' });
    expect(error.message).toContain('ACCEPTCUTTEXT');
    expect(xclipOut('-selection', 'clipboard').toString()).toBe('kept');
  });
});
