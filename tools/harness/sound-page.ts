// Drives the sound page (agents/sound/page/sound.js) in Chromium. What runs in the page is written as strings:
// the harness is compiled for Node, without the DOM's types.
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Browser, Page } from 'playwright-core';
import { epochMs, peakOf, type ClickPlayer } from './audio.js';
import { waitFor } from './process.js';
import type { PulseServer } from './pulse.js';

/** What the sound page (agents/sound/page/sound.js) exposes as window.desktopSound.state. */
export interface SoundPageState {
  codec: string;
  kbps: number;
  bufferedMs: number;
  underruns: number;
  /** Epoch ms at which each loud onset was rendered in the page, and at which it arrived decoded. */
  clicks: number[];
  /** Epoch ms at which each loud onset comes out of the device: rendered plus the output latency the browser reports. */
  heard: number[];
  arrived: number[];
  talking: boolean;
}

export async function openSoundPage(browser: Browser, agentUrl: string, token: string): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await page.goto(`${agentUrl}/sound/#token=${encodeURIComponent(token)}`);
  return page;
}

export async function soundPageState(page: Page): Promise<SoundPageState> {
  return page.evaluate('window.desktopSound.state') as Promise<SoundPageState>;
}

/** Picks the codec (and Opus bitrate) in the page's controls and presses Listen; resolves once it plays that codec. */
export async function listenOnPage(page: Page, codec: 'pcm' | 'opus', bitrate = 48000): Promise<void> {
  await page.selectOption('#codec', codec);
  await page.selectOption('#bitrate', String(bitrate));
  await page.click('#listen');
  await waitFor(`the page plays ${codec}`, async () => (await soundPageState(page)).codec.toLowerCase().startsWith(codec), 5000);
}

export async function stopListeningOnPage(page: Page): Promise<void> {
  await page.click('#listen');
}

/** What came out of the page for a run of clicks; `lost` were never rendered (skipped by the player after a stall). */
export interface ClicksHeard {
  /** Per click heard, ms from the click to the page rendering it, and to its arrival decoded (before the jitter buffer). */
  rendered: number[];
  /** Per click heard, ms from the click to what a listener hears (the browser's reported output latency included). */
  listener: number[];
  arrived: number[];
  lost: number;
}

/**
 * Plays `count` clicks on the desktop sink and waits up to `waitMs` for each to come out of the page. A click the
 * page never renders is counted lost, not an error: the player drops audio when its queue runs far over its target
 * after a stall, which is its documented behaviour, and a bench reports it.
 */
export async function clicksToPage(page: Page, player: ClickPlayer, count: number, gapMs = 250, waitMs = 3000): Promise<ClicksHeard> {
  const heard: ClicksHeard = { rendered: [], listener: [], arrived: [], lost: 0 };
  for (let n = 0; n < count; n++) {
    const before = (await soundPageState(page)).clicks.length;
    const at = await player.click(gapMs);
    const deadline = Date.now() + waitMs;
    let state = await soundPageState(page);
    while (state.clicks.length <= before && Date.now() < deadline) {
      await sleep(10);
      state = await soundPageState(page);
    }
    const renderedAt = state.clicks[before];
    if (renderedAt === undefined) {
      heard.lost++;
      continue;
    }
    heard.rendered.push(renderedAt - at);
    heard.listener.push((state.heard[before] ?? Number.NaN) - at);
    heard.arrived.push((state.arrived.at(-1) ?? Number.NaN) - at);
  }
  return heard;
}

/**
 * The page talks into the desktop's microphone from an oscillator gated off; each of `count` times the gate opens
 * for 100 ms, and parec on the source times the onset: ms from the page opening the gate to parec hearing it.
 */
export async function pageToMicrophone(page: Page, pulse: PulseServer, count: number, source = 'microphone'): Promise<number[]> {
  const parec = spawn('parec', [`--device=${source}`, '--format=s16le', '--rate=48000', '--channels=1', '--raw', '--latency-msec=10'], {
    env: { ...process.env, ...pulse.env },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  let received = 0;
  let loudSince: number | undefined;
  let quiet = true;
  parec.stdout.on('data', (chunk: Buffer) => {
    received += chunk.length;
    const peak = peakOf(chunk);
    if (peak > 8000 && quiet) loudSince = epochMs();
    quiet = peak < 2000;
  });
  try {
    await waitFor('parec delivering', async () => received > 9600, 5000);
    await page.evaluate(`(async () => {
      const ctx = await window.desktopSound.context();
      await ctx.resume();
      const osc = new OscillatorNode(ctx, { frequency: 600 });
      const gate = new GainNode(ctx, { gain: 0 });
      osc.connect(gate);
      osc.start();
      window.testGate = gate;
      await window.desktopSound.talkFrom(gate);
    })()`);
    await waitFor('the page talking', async () => (await soundPageState(page)).talking, 3000);
    await sleep(500);
    const latencies: number[] = [];
    for (let n = 0; n < count; n++) {
      loudSince = undefined;
      const at = (await page.evaluate(`(() => {
        const gate = window.testGate;
        const now = gate.context.currentTime;
        gate.gain.setValueAtTime(0.6, now);
        gate.gain.setValueAtTime(0, now + 0.1);
        return Date.now();
      })()`)) as number;
      const heard = await waitFor('parec hears the page', async () => loudSince, 3000, 5);
      latencies.push(heard - at);
      await sleep(250);
    }
    return latencies;
  } finally {
    parec.kill();
  }
}
