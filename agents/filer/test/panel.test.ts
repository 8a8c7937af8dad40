import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, CDPSession, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, pageScreenshots, startAgent, waitFor, type RunningAgent } from '@desktop-agents/tools/harness';
import { sha256OfFile, TOKEN } from './helpers.js';

// The file panel in headless Chromium against the built filer: files and a folder dragged onto it from the disk
// (a real drag of OS files, through the DevTools protocol), progress, the filer stopped midway and started again
// (the upload resumes to a byte-exact file), and list, download and delete through the page.
interface Transfer {
  path: string;
  total: number;
  sent: number;
  state: string;
  reason?: string;
  savedAs?: string;
}

let dir: string;
let home: string;
let staging: string;
let filer: RunningAgent;
let chromium: Browser;

const startFiler = (port?: number) =>
  startAgent('filer', { port, env: { AUTH_TOKEN: TOKEN, HOME: home, FILER_STAGING_DIR: staging, FILER_MAX_UPLOAD_BYTES: String(200 * 1024 * 1024) } });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'panel-'));
  home = join(dir, 'home');
  staging = join(dir, 'staging');
  mkdirSync(home);
  filer = await startFiler();
  chromium = await launchChromium();
});
afterAll(async () => {
  await chromium?.close();
  await filer?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function openPanel(width = 1280, height = 800): Promise<Page> {
  const page = await (await chromium.newContext({ viewport: { width, height }, acceptDownloads: true })).newPage();
  await page.goto(`${filer.url}/filer/panel#token=${TOKEN}`);
  await page.waitForFunction('window.filePanel !== undefined');
  return page;
}

const transfers = (page: Page) => page.evaluate('window.filePanel.transfers()') as Promise<Transfer[]>;

/** Drags files and folders of this disk onto the page, as a user dragging them from a file manager. */
async function dragFromDisk(cdp: CDPSession, paths: string[]): Promise<void> {
  const data = { items: [], files: paths, dragOperationsMask: 1 };
  for (const type of ['dragEnter', 'dragOver', 'drop'] as const) await cdp.send('Input.dispatchDragEvent', { type, x: 300, y: 200, data });
}

describe('the file panel', () => {
  it('uploads a dragged 50 MiB file and a folder of 20 files, resuming the big one after the filer restarts midway', async () => {
    const big = join(dir, 'big.bin');
    writeFileSync(big, randomBytes(50 * 1024 * 1024));
    const folder = join(dir, 'photos');
    mkdirSync(join(folder, 'day2'), { recursive: true });
    for (let i = 0; i < 20; i++) writeFileSync(join(folder, i < 10 ? '' : 'day2', `p${i}.jpg`), randomBytes(1000 + i * 5000));

    const page = await openPanel();
    const cdp = await page.context().newCDPSession(page);
    // slow enough to stop the filer midway: 20 MiB/s up
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 20 * 1024 * 1024 });
    const offsets: number[] = [];
    page.on('request', (request) => {
      if (request.method() === 'PATCH' && request.url().includes('/filer/uploads/')) offsets.push(Number(request.headers()['upload-offset']));
    });
    const log: string[] = [];
    page.on('response', (r) => {
      const q = r.request();
      if (q.url().includes('/filer/uploads'))
        log.push(`${q.method()} ${q.url().slice(-12)} ${q.headers()['upload-offset'] ?? ''} -> ${r.status()} ${r.headers()['upload-offset'] ?? ''}`);
    });
    page.on('requestfailed', (q) => log.push(`FAILED ${q.method()} ${q.url().slice(-12)} ${q.failure()?.errorText}`));
    await dragFromDisk(cdp, [big, folder]);

    const bigOne = async () => (await transfers(page)).find((t) => t.path === 'big.bin');
    await waitFor(
      'the big file a fifth uploaded',
      async () => {
        const t = await bigOne();
        return t !== undefined && t.sent > t.total / 5 && t.sent < t.total / 2;
      },
      20_000,
      20,
    );
    const progress = await page.textContent('.transfer:last-child .info');
    expect(progress).toMatch(/^\d+ MiB of 50 MiB · [\d.]+ MiB\/s · \d+ s left/);
    await page.screenshot({ path: pageScreenshots('filer-panel-uploading-desktop.png') });
    const port = filer.port;
    const patchesBefore = offsets.length;
    await filer.stop();
    await waitFor(
      'the panel retrying',
      async () => ((await bigOne())?.state ?? '') === 'uploading' && (await page.textContent('body'))?.includes('retrying'),
      10_000,
    );
    filer = await startFiler(port);
    await waitFor(
      'every upload done',
      async () => {
        const all = await transfers(page);
        return all.length === 21 && all.every((t) => t.state === 'done');
      },
      60_000,
      100,
    );

    expect(await sha256OfFile(join(home, 'big.bin'))).toBe(await sha256OfFile(big));
    // resumed, not sent again: the big file's PATCH after the restart starts where the filer had stopped
    expect(
      offsets.slice(patchesBefore).some((o) => o > 0),
      log.join('\n'),
    ).toBe(true);
    for (let i = 0; i < 20; i++) {
      const relative = join(i < 10 ? '' : 'day2', `p${i}.jpg`);
      expect(readFileSync(join(home, 'photos', relative)).equals(readFileSync(join(folder, relative))), relative).toBe(true);
    }
    expect(await page.textContent('#overall-text')).toMatch(/^21 of 21 files uploaded/);
    await page.close();
  }, 120_000);

  it('resumes an upload after a reload when the same file is given again, and cancels one (its partial data removed)', async () => {
    const file = join(dir, 'resume-me.bin');
    writeFileSync(file, randomBytes(30 * 1024 * 1024));
    const page = await openPanel();
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 15 * 1024 * 1024 });
    await page.setInputFiles('#pick-files', file);
    await waitFor('a third sent', async () => ((await transfers(page))[0]?.sent ?? 0) > 10 * 1024 * 1024, 20_000, 20);
    await page.reload();
    await page.waitForFunction('window.filePanel !== undefined');
    const offsets: number[] = [];
    page.on('request', (request) => {
      if (request.method() === 'PATCH') offsets.push(Number(request.headers()['upload-offset']));
    });
    await page.setInputFiles('#pick-files', file);
    await waitFor('the upload done', async () => (await transfers(page))[0]?.state === 'done', 30_000, 100);
    expect(offsets[0]).toBeGreaterThan(0);
    expect(await page.textContent('.transfer .info')).toMatch(/uploaded/);
    expect(await sha256OfFile(join(home, 'resume-me.bin'))).toBe(await sha256OfFile(file));

    const staged = () => readdirSync(staging).filter((n) => !n.endsWith('.json')).length;
    const stagedBefore = staged();
    const other = join(dir, 'cancel-me.bin');
    writeFileSync(other, randomBytes(30 * 1024 * 1024));
    await page.setInputFiles('#pick-files', other);
    await waitFor('some sent', async () => ((await transfers(page)).find((t) => t.path === 'cancel-me.bin')?.sent ?? 0) > 1024 * 1024, 20_000, 20);
    await page.click('.transfer:first-child .cancel');
    await waitFor('cancelled', async () => (await transfers(page)).find((t) => t.path === 'cancel-me.bin')?.state === 'cancelled');
    expect(await page.textContent('.transfer:first-child .info')).toBe('cancelled');
    await waitFor('its partial data removed', async () => staged() <= stagedBefore, 5000);
    expect(existsSync(join(home, 'cancel-me.bin'))).toBe(false);
    await page.close();
  }, 90_000);

  it('shows the name a file got when its name was taken', async () => {
    writeFileSync(join(home, 'note.txt'), 'already here');
    const page = await openPanel();
    await page.setInputFiles('#pick-files', { name: 'note.txt', mimeType: 'text/plain', buffer: Buffer.from('new note') });
    const done = await waitFor('the upload done', async () => (await transfers(page)).find((t) => t.state === 'done'));
    expect(done.savedAs).not.toBe('note.txt');
    expect(readFileSync(join(home, done.savedAs ?? ''), 'utf8')).toBe('new note');
    expect(await page.textContent('.transfer .info')).toContain(`saved as ${done.savedAs} (the name was taken)`);
    await page.close();
  });

  it('says in words why an upload was refused', async () => {
    const page = await openPanel();
    await page.evaluate("window.filePanel.open('../outside')");
    await page.setInputFiles('#pick-files', { name: 'x.txt', mimeType: 'text/plain', buffer: Buffer.from('x') });
    const failed = await waitFor('the upload refused', async () => (await transfers(page)).find((t) => t.state === 'failed'));
    expect(failed.reason).toMatch(/^refused: Forbidden bad path/);
    expect(await page.textContent('.transfer.failed .info')).toMatch(/^not uploaded: refused/);
    expect(existsSync(join(dir, 'outside'))).toBe(false);
    await page.close();
  });

  it('lists the home folder (hidden files only when asked), opens folders, downloads and deletes through the page', async () => {
    writeFileSync(join(home, '.secret'), 'hidden');
    const page = await openPanel();
    const names = () => page.$$eval('#entries tr[data-name]', (rows) => rows.map((r) => r.getAttribute('data-name')));
    await waitFor('the list', async () => (await names()).includes('big.bin'));
    expect((await names())[0]).toBe('photos');
    expect(await names()).not.toContain('.secret');
    await page.check('#hidden');
    await waitFor('hidden files shown', async () => (await names()).includes('.secret'));
    await page.uncheck('#hidden');

    await page.click('#entries tr[data-name="photos"] .open');
    await waitFor('inside photos', async () => (await names()).includes('p0.jpg'));
    // the token was read from the address once and never written back (history, screenshots, shared links)
    expect(await page.evaluate('location.href')).not.toContain(TOKEN);
    expect(await page.evaluate('location.hash')).toBe('#folder=photos');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#entries tr[data-name="p3.jpg"] .download')]);
    expect(download.suggestedFilename()).toBe('p3.jpg');
    const saved = join(dir, 'downloaded.jpg');
    await download.saveAs(saved);
    expect(readFileSync(saved).equals(readFileSync(join(home, 'photos', 'p3.jpg')))).toBe(true);

    const [zip] = await Promise.all([page.waitForEvent('download'), page.click('#entries tr[data-name="day2"] .download')]);
    expect(zip.suggestedFilename()).toBe('day2.zip');
    const zipPath = join(dir, 'day2.zip');
    await zip.saveAs(zipPath);
    expect(readFileSync(zipPath).subarray(0, 4).toString('latin1')).toBe('PK\u0003\u0004');

    page.once('dialog', (dialog) => void dialog.accept());
    await page.click('#entries tr[data-name="p3.jpg"] .delete');
    await waitFor('p3 gone from the list', async () => !(await names()).includes('p3.jpg'));
    expect(existsSync(join(home, 'photos', 'p3.jpg'))).toBe(false);
    page.once('dialog', (dialog) => void dialog.dismiss());
    await page.click('#entries tr[data-name="p4.jpg"] .delete');
    expect(existsSync(join(home, 'photos', 'p4.jpg'))).toBe(true);
    await page.screenshot({ path: pageScreenshots('filer-panel-desktop.png') });
    await page.close();

    const phone = await openPanel(390, 844);
    await waitFor('the list on a phone', async () => (await phone.$$('#entries tr[data-name]')).length > 0);
    expect(await phone.evaluate('document.documentElement.scrollWidth <= window.innerWidth')).toBe(true);
    await phone.screenshot({ path: pageScreenshots('filer-panel-phone.png') });
    await phone.close();
  }, 60_000);
});
