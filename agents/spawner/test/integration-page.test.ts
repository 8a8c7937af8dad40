/// <reference lib="dom" />
// (page.evaluate bodies run in the page: its DOM types)
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import {
  freePort,
  launchChromium,
  requireCommand,
  startAgent,
  startDbusSession,
  startNginx,
  startXvfb,
  waitFor,
  type DbusSession,
  type NginxServer,
  type RunningAgent,
  type XServer,
} from '@desktop-agents/tools/harness';
import { runInBackground, spawnerEnv } from './session.js';

// The page the spawner serves for the clipboard and notifications, in headless Chromium against a real X server, a
// real bus and a private session D-Bus: a paste in the page reaches X clients, a copy in the desktop reaches the
// browser clipboard (or the panel where the browser refuses), a notification shows with its actions.
const TOKEN = 'spawner-page-token-1';
const COOKIE = 'spawner-page-cookie';
const home = mkdtempSync(join(tmpdir(), 'spawner-page-'));
let x: XServer;
let dbus: DbusSession;
let bus: RunningAgent;
let spawner: RunningAgent;
// one origin in front of both, as the desktop's router is: the page reaches the bus on its own origin only
let site: NginxServer;
let chromium: Browser;
const owners: ChildProcess[] = [];
const env = () => ({ ...process.env, DISPLAY: x.display, ...dbus.env });
const xclipOut = (...args: string[]) => execFileSync('xclip', ['-o', ...args], { env: env(), timeout: 5000 }).toString();

async function openPage(permissions: string[], refusesClipboardWrites = false): Promise<{ context: BrowserContext; page: Page }> {
  const context = await chromium.newContext();
  if (permissions.length) await context.grantPermissions(permissions, { origin: site.url });
  const page = await context.newPage();
  // as Firefox and Safari answer a write without a user gesture (headless Chromium grants it)
  if (refusesClipboardWrites)
    await page.addInitScript(() => {
      const refuse = () => Promise.reject(new DOMException('Clipboard write is not allowed.', 'NotAllowedError'));
      Object.assign(navigator.clipboard, { writeText: refuse, write: refuse });
    });
  await page.goto(`${site.url}/spawner/integration#token=${TOKEN}`);
  await page.getByText('connected to the desktop').waitFor({ timeout: 10_000 });
  return { context, page };
}

/** What Ctrl+V gives the page: a paste event whose clipboardData holds the text or the file. */
async function paste(page: Page, content: { text: string } | { png: number[] }): Promise<void> {
  await page.evaluate((c) => {
    const data = new DataTransfer();
    if ('text' in c) data.setData('text/plain', c.text);
    else data.items.add(new File([new Uint8Array(c.png)], 'pasted.png', { type: 'image/png' }));
    document.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
  }, content);
}

beforeAll(async () => {
  requireCommand('notify-send', 'libnotify-bin');
  x = await startXvfb();
  dbus = await startDbusSession();
  const spawnerPort = await freePort();
  bus = await startAgent('broadcast', { env: { AUTH_TOKEN: TOKEN, BROADCAST_COOKIE: COOKIE, ALLOWED_ORIGINS: `http://127.0.0.1:${spawnerPort}` } });
  spawner = await startAgent('spawner', {
    port: spawnerPort,
    env: spawnerEnv({ token: TOKEN, cookie: COOKIE, bus, display: x.display, home }, { DBUS_SESSION_BUS_ADDRESS: dbus.address }),
  });
  await waitFor('notification server', async () => spawner.logLines().some((l) => l['msg'] === 'notification server on the session bus'), 10_000);
  site = await startNginx(home, [
    { prefix: '/spawner/', upstream: spawner.url },
    { prefix: '/broadcast', upstream: bus.url },
  ]);
  chromium = await launchChromium();
}, 60_000);
afterEach(() => {
  for (const owner of owners.splice(0)) owner.kill();
});
afterAll(async () => {
  await chromium?.close();
  await site?.stop();
  await spawner?.stop();
  await bus?.stop();
  await dbus?.stop();
  await x?.stop();
  rmSync(home, { recursive: true, force: true });
});

describe('the clipboard and notifications page', () => {
  it('connects only to its own origin, whatever a link says, and removes the token from the address', async () => {
    // a crafted link naming another bus: nothing may connect there
    const elsewhere = await import('node:http').then(({ createServer }) => createServer());
    let reached = false;
    elsewhere.on('upgrade', (_request, socket) => {
      reached = true;
      socket.destroy();
    });
    const port = await freePort();
    await new Promise<void>((resolve) => elsewhere.listen(port, '127.0.0.1', resolve));
    const context = await chromium.newContext();
    const page = await context.newPage();
    await page.goto(`${site.url}/spawner/integration#token=${TOKEN}&bus=ws://127.0.0.1:${port}/broadcast`);
    await page.getByText('connected to the desktop').waitFor({ timeout: 10_000 });
    expect(reached).toBe(false);
    expect(await page.evaluate(() => location.href)).not.toContain(TOKEN);
    await context.close();
    elsewhere.close();
  });

  it('serves the page and its script without credentials (they hold no data)', async () => {
    for (const path of ['/spawner/integration', '/spawner/integration.js']) expect((await fetch(`${spawner.url}${path}`)).status).toBe(200);
  });

  it("sends the user's paste of text to the desktop's CLIPBOARD and PRIMARY", async () => {
    const { context, page } = await openPage([]);
    await paste(page, { text: 'pasted in Chromium ✓' });
    await waitFor('CLIPBOARD', async () => xclipOut('-selection', 'clipboard') === 'pasted in Chromium ✓', 5000);
    expect(xclipOut('-selection', 'primary')).toBe('pasted in Chromium ✓');
    await context.close();
  });

  it('sends a pasted PNG to the desktop, and says in words why a broken one is refused', async () => {
    const { context, page } = await openPage([]);
    // a real PNG, made by the page's canvas
    const bytes = await page.evaluate(async () => {
      const canvas = document.createElement('canvas');
      canvas.width = canvas.height = 2;
      const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, 'image/png'));
      return Array.from(new Uint8Array(await (blob as Blob).arrayBuffer()));
    });
    await paste(page, { png: bytes });
    await waitFor('image/png on CLIPBOARD', async () => xclipOut('-selection', 'clipboard', '-t', 'TARGETS').includes('image/png'), 5000);
    expect(execFileSync('xclip', ['-o', '-selection', 'clipboard', '-t', 'image/png'], { env: env() }).equals(Buffer.from(bytes))).toBe(true);
    await paste(page, { png: [1, 2, 3, 4] });
    await page.getByText('the desktop refused the paste: the data is not a PNG image').waitFor({ timeout: 5000 });
    await context.close();
  });

  it('writes a desktop copy to the browser clipboard where the page may, and shows it with a Copy button where the browser refuses', async () => {
    const allowed = await openPage(['clipboard-read', 'clipboard-write']);
    const denied = await openPage([], true);
    // Chromium writes the clipboard only for the focused document
    await allowed.page.bringToFront();
    const owner = spawn('xclip', ['-quiet', '-i', '-selection', 'clipboard'], { env: env(), stdio: ['pipe', 'ignore', 'ignore'] });
    owners.push(owner);
    owner.stdin.end('copied in the desktop ✓');
    await allowed.page.getByText('text from the desktop copied to this computer').waitFor({ timeout: 5000 });
    expect(await allowed.page.evaluate(() => navigator.clipboard.readText())).toBe('copied in the desktop ✓');
    await denied.page.getByRole('button', { name: 'Copy' }).waitFor({ timeout: 5000 });
    await denied.page.getByText('copied in the desktop: use the Copy button').waitFor({ timeout: 5000 });
    expect(await denied.page.locator('[data-role=copied-text]').inputValue()).toBe('copied in the desktop ✓');
    await allowed.context.close();
    await denied.context.close();
  });

  it('shows a notification with its actions; a click reaches the application, and it goes when closed', async () => {
    const { context, page } = await openPage(['notifications']);
    const app = runInBackground('notify-send', ['-A', 'open=Open it', '-t', '0', 'Build finished', 'All green'], env());
    const card = page.locator('[data-role=notification]', { hasText: 'Build finished' });
    await card.waitFor({ timeout: 5000 });
    await expect.poll(() => card.textContent()).toContain('All green');
    await card.getByRole('button', { name: 'Open it' }).click();
    const { code, stdout } = await app;
    expect(code).toBe(0);
    expect(stdout.trim()).toBe('open');
    await card.waitFor({ state: 'detached', timeout: 5000 });
    await context.close();
  });
});
