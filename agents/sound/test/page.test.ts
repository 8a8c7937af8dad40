import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  clicksToPage,
  launchChromium,
  listenOnPage,
  openSoundPage,
  pageScreenshots,
  pageToMicrophone,
  soundPageState,
  startAgent,
  startClickPlayer,
  startPulse,
  stopListeningOnPage,
  waitFor,
  type PulseServer,
  type RunningAgent,
} from '@desktop-agents/tools/harness';

// The player page in headless Chromium against a real pulse: clicks played on the desktop sink arrive at the page's
// output (its AudioWorklet reports each loud onset with the time it is rendered), in PCM and in Opus; the page's
// oscillator talks into the microphone source, where parec hears it. How long each takes is the bench's
// (tools/bench/suites/sound), not asserted here.
const TOKEN = 'sound-page-token-0000';
let pulse: PulseServer;
let sound: RunningAgent;
let chromium: Browser;

beforeAll(async () => {
  pulse = await startPulse();
  sound = await startAgent('sound', { env: { AUTH_TOKEN: TOKEN, PULSE_SERVER: pulse.server, BROADCAST_SERVICE_URL: 'ws://127.0.0.1:9/' } });
  chromium = await launchChromium(['--autoplay-policy=no-user-gesture-required']);
});
afterAll(async () => {
  await chromium?.close();
  await sound?.stop();
  await pulse?.stop();
});

/**
 * The page opened with a deep jitter buffer (200 ms): these tests are about every click coming out, and a loaded
 * machine's stalls must not make the player skip one.
 */
async function openDeepPage(): Promise<Page> {
  const page = await openSoundPage(chromium, sound.url, TOKEN);
  await page.evaluate("localStorage.setItem('desktop-sound.jitter-ms', '200')");
  await page.reload();
  return page;
}

async function clicksArrive(page: Page, codec: 'pcm' | 'opus', bitrate?: number) {
  await listenOnPage(page, codec, bitrate);
  const player = await startClickPlayer(pulse, 48000);
  try {
    const times = await clicksToPage(page, player, 5, 400);
    const state = await soundPageState(page);
    await stopListeningOnPage(page);
    return { ...times, state };
  } finally {
    player.stop();
  }
}

describe('the sound page', () => {
  it('plays the desktop in PCM: every click arrives, then comes out of the jitter buffer', async () => {
    const page = await openDeepPage();
    const { rendered, state } = await clicksArrive(page, 'pcm');
    expect(rendered).toHaveLength(5);
    expect(rendered.every((l) => l > 0)).toBe(true);
    expect(state.arrived.length).toBeGreaterThanOrEqual(5);
    expect(state.codec).toBe('PCM 24000 Hz');
    await page.close();
  });

  it('plays the desktop in Opus (WebCodecs) at the bitrate asked: every click arrives and comes out', async () => {
    const page = await openDeepPage();
    const { rendered, state } = await clicksArrive(page, 'opus', 32000);
    expect(rendered).toHaveLength(5);
    expect(rendered.every((l) => l > 0)).toBe(true);
    expect(state.arrived.length).toBeGreaterThanOrEqual(5);
    expect(state.codec).toMatch(/^opus 32 kbit\/s, 10 ms frames/);
    expect(state.kbps).toBeGreaterThan(0);
    expect(state.kbps).toBeLessThanOrEqual(40);
    await page.close();
  });

  it('remembers the jitter buffer the user sets and shows the latency it adds', async () => {
    const page = await openSoundPage(chromium, sound.url, TOKEN);
    await page.$eval('#jitter', (input) => {
      (input as unknown as { value: string }).value = '120';
      input.dispatchEvent(new Event('input'));
    });
    await page.reload();
    expect(await page.inputValue('#jitter')).toBe('120');
    expect(await page.textContent('#jitter-value')).toBe('120 ms');
    expect(await page.textContent('#latency')).toMatch(/^buffer adds 120 ms/);
    await page.setViewportSize({ width: 1280, height: 600 });
    await page.screenshot({ path: pageScreenshots('sound-desktop.png') });
    await page.setViewportSize({ width: 390, height: 844 });
    expect(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth')).toBe(true);
    await page.screenshot({ path: pageScreenshots('sound-phone.png') });
    await page.close();
  });

  it("talks into the desktop's microphone from the page: parec on the source hears each of the page's tones", async () => {
    const page = await openSoundPage(chromium, sound.url, TOKEN);
    const latencies = await pageToMicrophone(page, pulse, 3);
    expect(latencies).toHaveLength(3);
    expect(latencies.every((l) => l > 0)).toBe(true);
    await page.click('#mic');
    await waitFor('microphone off', async () => !(await soundPageState(page)).talking, 3000);
    await page.close();
  });
});
