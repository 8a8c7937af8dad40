import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, startAgent, type RunningAgent } from '@desktop-agents/tools/harness';
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
});
