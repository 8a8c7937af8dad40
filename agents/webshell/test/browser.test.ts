import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, pageScreenshots, startAgent, startTcpProxy, type RunningAgent } from '@desktop-agents/tools/harness';
import type { Browser, Page } from 'playwright-core';
import { TOKEN } from './helpers.js';

let agent: RunningAgent;
let browser: Browser;
const home = mkdtempSync(join(tmpdir(), 'webshell-home-'));

beforeAll(async () => {
  agent = await startAgent('webshell', { env: { AUTH_TOKEN: TOKEN, HOME: home, WEBSHELL_SHELL: '/bin/bash' } });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await agent?.stop();
  rmSync(home, { recursive: true, force: true });
});

/** The text on the xterm.js screen, read from its buffer (the page exposes the terminal as window.webshellTerminal). */
async function screen(page: Page): Promise<string> {
  return page.evaluate<string>(`(() => {
    const buffer = window.webshellTerminal.buffer.active;
    const lines = [];
    for (let i = 0; i < buffer.length; i++) lines.push(buffer.getLine(i)?.translateToString(true) ?? '');
    return lines.join('\\n');
  })()`);
}

describe('the terminal page in headless Chromium', () => {
  it('opens a terminal, types a command and shows its output', async () => {
    const page = await browser.newPage();
    await page.goto(`${agent.url}/#token=${TOKEN}`);
    await page.waitForFunction("document.getElementById('status').textContent.startsWith('terminal ')", undefined, { timeout: 10_000 });
    await page.locator('#terminal').click();
    await page.keyboard.type('echo from-browser-$((2+3))');
    await page.keyboard.press('Enter');
    await expect.poll(() => screen(page), { timeout: 10_000 }).toMatch(/^from-browser-5$/m);
    await page.close();
  });

  it('reattaches to the same shell by itself after its socket is dropped, showing that it reconnects', async () => {
    const proxy = await startTcpProxy(agent.port);
    const page = await browser.newPage();
    try {
      await page.goto(`http://127.0.0.1:${proxy.port}/#token=${TOKEN}`);
      await page.waitForFunction("document.getElementById('status').className === 'connected'", undefined, { timeout: 10_000 });
      await page.locator('#terminal').click();
      await page.keyboard.type('MARK=kept-$((6*7)); echo shell-$$');
      await page.keyboard.press('Enter');
      await expect.poll(() => screen(page), { timeout: 10_000 }).toMatch(/^shell-\d+$/m);
      const shellPid = /^shell-(\d+)$/m.exec(await screen(page))?.[1];
      proxy.dropAll();
      await page.waitForFunction("document.getElementById('status').className === 'reconnecting'", undefined, { timeout: 5_000 });
      expect(await page.textContent('#status')).toMatch(/^connection lost .*: reconnecting in \d+ s \(attempt 1\)/);
      await page.waitForFunction("document.getElementById('status').textContent.endsWith('(reattached)')", undefined, { timeout: 10_000 });
      await page.keyboard.type('echo again-$$-$MARK');
      await page.keyboard.press('Enter');
      await expect.poll(() => screen(page), { timeout: 10_000 }).toMatch(new RegExp(`^again-${shellPid}-kept-42$`, 'm'));
    } finally {
      await page.close();
      await proxy.close();
    }
  });

  it("takes the page title from the shell's title sequence, and keeps the text size the user picks", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(`${agent.url}/#token=${TOKEN}`);
    await page.waitForFunction("document.getElementById('status').className === 'connected'", undefined, { timeout: 10_000 });
    await page.locator('#terminal').click();
    await page.keyboard.type("printf '\\033]0;%s\\007' build-logs");
    await page.keyboard.press('Enter');
    await expect.poll(() => page.title(), { timeout: 5_000 }).toBe('build-logs');
    const size = () => page.evaluate<number>('window.webshellTerminal.options.fontSize');
    const before = await size();
    await page.click('#larger');
    await page.click('#larger');
    expect(await size()).toBe(before + 2);
    await page.keyboard.press('Control+-');
    expect(await size()).toBe(before + 1);
    await page.reload();
    await page.waitForFunction("document.getElementById('status').className === 'connected'", undefined, { timeout: 10_000 });
    expect(await size()).toBe(before + 1);
    expect(await page.textContent('#font-size')).toBe(`${before + 1} px`);
    await page.screenshot({ path: pageScreenshots('terminal-desktop.png') });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: pageScreenshots('terminal-phone.png') });
    await page.close();
  });

  it('copies the selection with Ctrl+Shift+C and pastes with Ctrl+Shift+V', async () => {
    const context = await browser.newContext({ permissions: ['clipboard-read', 'clipboard-write'] });
    const page = await context.newPage();
    await page.goto(`${agent.url}/#token=${TOKEN}`);
    await page.waitForFunction("document.getElementById('status').className === 'connected'", undefined, { timeout: 10_000 });
    await page.locator('#terminal').click();
    await page.keyboard.type('echo copy-me-$((40+2))');
    await page.keyboard.press('Enter');
    await expect.poll(() => screen(page), { timeout: 10_000 }).toMatch(/^copy-me-42$/m);
    await page.evaluate(`(() => {
      const t = window.webshellTerminal;
      const buffer = t.buffer.active;
      for (let i = 0; i < buffer.length; i++) if (buffer.getLine(i).translateToString(true) === 'copy-me-42') t.selectLines(i, i);
    })()`);
    await page.keyboard.press('Control+Shift+C');
    await expect.poll(() => page.evaluate<string>('navigator.clipboard.readText()'), { timeout: 5_000 }).toMatch(/^copy-me-42\s*$/);
    await page.evaluate("navigator.clipboard.writeText('echo pasted-$((5*5))')");
    await page.keyboard.press('Control+Shift+V');
    await page.keyboard.press('Enter');
    await expect.poll(() => screen(page), { timeout: 10_000 }).toMatch(/^pasted-25$/m);
    await context.close();
  });
});
