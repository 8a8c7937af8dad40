import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, pageScreenshots, startNginx, waitFor, type NginxServer } from '@desktop-agents/tools/harness';
import { startPod, type Pod } from '@desktop-agents/tools/pod';
import { startStatusServer } from '@desktop-agents/tools/pod';

// The whole pod, as a user meets it: one origin (nginx, as abcdesktop's router) in front of every agent, driven
// from headless Chromium.
let pod: Pod;
let router: NginxServer;
let browser: Browser;
let page: Page;
const site = mkdtempSync(join(tmpdir(), 'e2e-site-'));

type Events = Array<{ method: string; data?: unknown }>;
const events = (p: Page) => p.evaluate<Events>('window.events');
const upstream = (name: string) => pod.agents.find((a) => a.name === name)?.running?.url ?? '';

beforeAll(async () => {
  pod = await startPod({
    env: { STATUS_SAMPLE_MS: '300', SPAWNER_COMMANDS: JSON.stringify({ 'xmessage.Xmessage': { program: '/usr/bin/xmessage', args: 'text' } }) },
  });
  for (const agent of pod.agents) expect(agent.failure, agent.name).toBeUndefined();
  writeFileSync(join(site, 'index.html'), '<!doctype html><title>desktop</title>');
  router = await startNginx(site, [
    { prefix: '/broadcast', upstream: upstream('broadcast') },
    { prefix: '/spawner/', upstream: upstream('spawner') },
    { prefix: '/filer', upstream: upstream('filer') },
    { prefix: '/printerfiler', upstream: upstream('printerfile') },
    { prefix: '/webshell', upstream: upstream('webshell'), strip: true },
    { prefix: '/sound/', upstream: upstream('sound') },
  ]);
  for (const agent of pod.agents) await waitFor(`${agent.name} ready`, async () => (await agent.running?.get('/readyz'))?.status === 200, 15_000);
  browser = await launchChromium();
  page = await browser.newPage();
  await page.goto(`${router.url}/`);
  // the web UI's bus connection
  await page.evaluate(`new Promise((resolve) => {
    window.events = [];
    const ws = new WebSocket(location.origin.replace('http', 'ws') + '/broadcast?jwt_token=${pod.token}');
    ws.onmessage = (e) => window.events.push(JSON.parse(e.data));
    ws.onopen = resolve;
  })`);
});
afterAll(async () => {
  await browser?.close();
  await router?.stop();
  await pod?.stop();
  rmSync(site, { recursive: true, force: true });
});

describe('the pod in a browser', () => {
  it('launches an app through the spawner and sees its window in a window.list event', async () => {
    const reply = await page.evaluate<{ status: number }>(
      `fetch('/spawner/launch', { method: 'POST', headers: { 'content-type': 'application/json', ABCAuthorization: 'Bearer ${pod.token}' }, body: JSON.stringify({ command: 'xmessage.Xmessage', args: ['hello from e2e'] }) }).then((r) => ({ status: r.status }))`,
    );
    expect(reply.status).toBe(200);
    await waitFor(
      'window.list with xmessage',
      async () => (await events(page)).some((e) => e.method === 'window.list' && JSON.stringify(e.data).includes('xmessage.Xmessage')),
      10_000,
    );
  });

  it('runs a command in the webshell page, prints from the shell, and gets printer.new then the PDF', async () => {
    const shell = await browser.newPage();
    await shell.goto(`${router.url}/webshell/#token=${pod.token}`);
    await shell.waitForFunction("document.getElementById('status').textContent.startsWith('terminal ')", undefined, { timeout: 15_000 });
    await shell.locator('#terminal').click();
    await shell.keyboard.type(`echo e2e-$((6*7)) > ~/e2e.txt && cat ~/e2e.txt && lp -d ${pod.components.cups?.printer ?? 'PDF'} ~/e2e.txt`);
    await shell.keyboard.press('Enter');
    const screen = () =>
      shell.evaluate<string>(
        `(() => { const b = window.webshellTerminal.buffer.active; const l = []; for (let i = 0; i < b.length; i++) l.push(b.getLine(i).translateToString(true)); return l.join('\\n'); })()`,
      );
    await expect.poll(screen, { timeout: 15_000 }).toMatch(/request id is \S+-\d+/);
    expect(await screen()).toMatch(/^e2e-42$/m);
    expect(readFileSync(join(pod.home, 'e2e.txt'), 'utf8')).toBe('e2e-42\n');
    await waitFor('printer.new', async () => (await events(page)).some((e) => e.method === 'printer.new'), 20_000);
    const printed = (await events(page)).find((e) => e.method === 'printer.new')?.data as { path: string };
    const head = await page.evaluate<string>(
      `fetch('/printerfiler?file=' + encodeURIComponent('~/${printed.path}'), { headers: { ABCAuthorization: 'Bearer ${pod.token}' } }).then((r) => r.arrayBuffer()).then((b) => String.fromCharCode(...new Uint8Array(b.slice(0, 5))))`,
    );
    expect(head).toBe('%PDF-');
    await shell.close();
  });

  it('uploads a file through the file panel page (tus, behind the router) into the home folder', async () => {
    const panel = await browser.newPage();
    await panel.goto(`${router.url}/filer/panel#token=${pod.token}&folder=Desktop`);
    await panel.waitForFunction('window.filePanel !== undefined');
    await panel.setInputFiles('#pick-files', { name: 'hello.txt', mimeType: 'text/plain', buffer: Buffer.from('uploaded from the browser') });
    await panel.waitForFunction("window.filePanel.transfers().some((t) => t.state === 'done' || t.state === 'failed')", undefined, { timeout: 10_000 });
    expect(await panel.evaluate("window.filePanel.transfers().map((t) => t.state + ' ' + t.savedAs)")).toEqual(['done Desktop/hello.txt']);
    expect(readFileSync(join(pod.home, 'Desktop', 'hello.txt'), 'utf8')).toBe('uploaded from the browser');
    await panel.close();
  });

  it("shows a desktop app's notification (notify-send on the pod's session bus) to the browser", async () => {
    const dbus = pod.components.dbus;
    expect(dbus, `the pod started no session D-Bus: ${pod.components.problems.join('; ')}`).toBeDefined();
    const summary = `from e2e ${process.pid}`;
    execFileSync('notify-send', ['-t', '5000', summary, 'sent on the session bus'], { env: { ...process.env, ...dbus?.env }, timeout: 10_000 });
    await waitFor(
      'the notification on the bus',
      async () => (await events(page)).some((e) => e.method === 'notification' && (e.data as { summary?: string }).summary === summary),
      10_000,
    );
  });

  it('hears a tone played on the desktop as audio frames on the sound socket', async () => {
    await page.evaluate(`new Promise((resolve) => {
      window.peak = 0;
      const ws = new WebSocket(location.origin.replace('http', 'ws') + '/sound/listen?jwt_token=${pod.token}');
      ws.binaryType = 'arraybuffer';
      ws.onmessage = (e) => { if (typeof e.data !== 'string') for (const s of new Int16Array(e.data)) window.peak = Math.max(window.peak, Math.abs(s)); };
      ws.onopen = resolve;
    })`);
    const pulse = pod.components.pulse;
    expect(pulse).toBeDefined();
    const tone = Buffer.alloc(48000);
    for (let i = 0; i < 24000; i++) tone.writeInt16LE(Math.round(15000 * Math.sin((2 * Math.PI * 440 * i) / 24000)), i * 2);
    const pacat = spawn('pacat', ['--playback', `--device=${pulse?.sink ?? 'desktop'}`, '--format=s16le', '--rate=24000', '--channels=1', '--raw'], {
      env: { ...process.env, ...pulse?.env },
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    pacat.stdin.end(tone);
    await waitFor('loud audio in the page', async () => (await page.evaluate<number>('window.peak')) > 5000, 10_000);
  });

  it('shows every agent on the status page: ready, its RSS and CPU graphs, its own figures; status.json unchanged', async () => {
    const status = await startStatusServer(pod, 0);
    try {
      const statusPage = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      await statusPage.goto(`${status.url}/`);
      const cards = statusPage.locator('section.agent');
      await expect.poll(() => cards.count(), { timeout: 10_000 }).toBe(pod.agents.length);
      // graphs drawn from several samples (the agents sample every 300 ms here)
      await expect
        .poll(() => statusPage.$$eval('section.agent svg', (svgs) => Math.min(...svgs.map((s) => Number(s.getAttribute('data-points'))))), { timeout: 10_000 })
        .toBeGreaterThanOrEqual(3);
      for (const agent of pod.agents) {
        const card = statusPage.locator(`section.agent[data-agent="${agent.name}"]`);
        expect(await card.locator('.state').textContent(), agent.name).toBe('ready');
        expect(await card.locator('.meta').textContent()).toMatch(/^up \d+/);
        expect(await card.locator('.graph .now').first().textContent()).toMatch(/^\d+\.\d MiB$/);
      }
      const figures = async (name: string) => statusPage.locator(`section.agent[data-agent="${name}"] .figures`).textContent();
      expect(await figures('broadcast')).toContain('broadcast_clients {kind=browser}');
      expect(await figures('broadcast')).toContain('broadcast_frames_shed_total');
      expect(await figures('webshell')).toContain('webshell_terminals');
      expect(await figures('filer')).toContain('filer_transfers_in_flight {kind=upload}');
      expect(await figures('sound')).toContain('sound_listeners');
      await statusPage.screenshot({ path: pageScreenshots('status-desktop.png'), fullPage: true });
      await statusPage.setViewportSize({ width: 390, height: 844 });
      expect(await statusPage.evaluate('document.documentElement.scrollWidth <= window.innerWidth')).toBe(true);
      await statusPage.screenshot({ path: pageScreenshots('status-phone.png') });
      await statusPage.close();
      const json = (await (await fetch(`${status.url}/status.json`)).json()) as Array<Record<string, unknown>>;
      expect(json).toHaveLength(pod.agents.length);
      for (const entry of json) expect(entry).toMatchObject({ name: expect.any(String), ready: true, url: expect.stringMatching(/^http:/) });
    } finally {
      status.server.close();
    }
  });
});
