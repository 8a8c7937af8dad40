import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { repoRoot } from './agent.js';
import { requireCommand } from './components.js';

/**
 * Debian's Chromium, headless, with the flags this machine needs (no sandbox as root, no background network), plus
 * a test's own (e.g. `--autoplay-policy=no-user-gesture-required` for audio).
 */
export async function launchChromium(extraArgs: readonly string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: requireCommand('chromium', 'chromium'),
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
      ...extraArgs,
    ],
  });
}

/** Where a test keeps a page's screenshot: test-artifacts/screenshots/<name> at the repository's root (made). */
export function pageScreenshots(name: string): string {
  const dir = join(repoRoot(), 'test-artifacts', 'screenshots');
  mkdirSync(dir, { recursive: true });
  return join(dir, name);
}
