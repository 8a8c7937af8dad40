// The sound page in headless Chromium: clicks played on the desktop sink timed until the page renders them, in PCM
// and in Opus, beside the in-process capture floor (the same clicks reaching a WebSocket listener in Node) measured
// in the same run; the bandwidth of each stream; the page's oscillator timed to parec on the microphone source,
// beside a click played straight into the source's input; and an Opus stream's latency at minute 1 and minute N
// (BENCH_SOUND_MINUTES, default 10: drift must not make it grow). Each click is timed twice: to the page's output
// (what the page renders) and to what a listener hears (plus the output latency the browser reports).
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import {
  clicksToPage,
  type ClicksHeard,
  epochMs,
  launchChromium,
  listenOnPage,
  openSoundPage,
  pageToMicrophone,
  peakOf,
  soundPageState,
  startAgent,
  startClickPlayer,
  startPulse,
  stopListeningOnPage,
  waitFor,
  type ClickPlayer,
  type PulseServer,
} from '../../../harness/index.js';
import { percentile, type BenchResult, type BenchSuite } from '../../types.js';

const TOKEN = 'bench-token-0123456789';
const FULL = { clicks: 40, laterClicks: 10, streamSeconds: Number(process.env['BENCH_SOUND_MINUTES'] ?? 10) * 60 };
const QUICK = { clicks: 5, laterClicks: 3, streamSeconds: 100 };
let { clicks: CLICKS, laterClicks: LATER_CLICKS, streamSeconds: STREAM_SECONDS } = FULL;

const sorted = (values: number[]) => [...values].sort((a, b) => a - b);

/** Clicks to a Node WebSocket listener of the agent: the floor the page's figures stand on. */
async function captureFloor(port: number, player: ClickPlayer): Promise<number[]> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/sound/listen?jwt_token=${TOKEN}`);
  let pending: number | undefined;
  const latencies: number[] = [];
  ws.on('message', (data: Buffer, isBinary) => {
    if (!isBinary || pending === undefined || peakOf(data) <= 20000) return;
    latencies.push(epochMs() - pending);
    pending = undefined;
  });
  await new Promise((resolve) => ws.once('open', resolve));
  await sleep(300);
  for (let n = 0; n < CLICKS; n++) {
    pending = await player.click(150);
    await waitFor('the click at the listener', async () => pending === undefined, 3000, 2);
  }
  ws.close();
  return sorted(latencies);
}

/** A click played straight into the microphone's input sink, timed to parec on the source. */
async function sourceFloor(pulse: PulseServer, count: number): Promise<number[]> {
  const player = await startClickPlayer(pulse, 48000, 'microphone.input');
  const parec = spawn('parec', ['--device=microphone', '--format=s16le', '--rate=48000', '--channels=1', '--raw', '--latency-msec=10'], {
    env: { ...process.env, ...pulse.env },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  let pending: number | undefined;
  const latencies: number[] = [];
  parec.stdout.on('data', (chunk: Buffer) => {
    if (pending === undefined || peakOf(chunk) <= 8000) return;
    latencies.push(epochMs() - pending);
    pending = undefined;
  });
  try {
    await sleep(1500);
    for (let n = 0; n < count; n++) {
      pending = await player.click(250);
      await waitFor('parec hears the click', async () => pending === undefined, 3000, 2);
    }
  } finally {
    parec.kill();
    player.stop();
  }
  return sorted(latencies);
}

function latencyRows(name: string, heard: ClicksHeard, floor: number): BenchResult[] {
  const rendered = sorted(heard.rendered);
  const listener = sorted(heard.listener);
  const played = rendered.length + heard.lost;
  const toPage = (p: number): BenchResult['reference'] => ({ name: `click to page output, p${p}`, value: percentile(rendered, p) });
  return [
    {
      measure: `${name}: click to page output, p50 of ${rendered.length} heard`,
      unit: 'ms',
      value: percentile(rendered, 50),
      reference: { name: 'in-process capture floor, p50', value: floor },
      better: 'lower',
      target: { value: { max: 40 } },
    },
    {
      measure: `${name}: click to page output, p99 of ${rendered.length} heard`,
      unit: 'ms',
      value: percentile(rendered, 99),
      reference: { name: 'in-process capture floor, p50', value: floor },
      better: 'lower',
      target: { value: { max: 80 } },
    },
    // what a person meets: the device's output latency (as the browser reports it) comes on top of the page's output
    {
      measure: `${name}: click to what a listener hears, p50 of ${listener.length}`,
      unit: 'ms',
      value: percentile(listener, 50),
      reference: toPage(50),
      better: 'lower',
    },
    {
      measure: `${name}: click to what a listener hears, p99 of ${listener.length}`,
      unit: 'ms',
      value: percentile(listener, 99),
      reference: toPage(99),
      better: 'lower',
    },
    // a click the player dropped (its queue far over target after a stall) is no latency: counted here, never hidden
    {
      measure: `${name}: clicks never heard in the page`,
      unit: 'clicks',
      value: heard.lost,
      reference: { name: 'clicks played', value: played },
      better: 'lower',
      target: { value: { max: 0 } },
    },
  ];
}

const suite: BenchSuite = {
  name: 'sound-browser',
  async run({ quick }): Promise<BenchResult[]> {
    ({ clicks: CLICKS, laterClicks: LATER_CLICKS, streamSeconds: STREAM_SECONDS } = quick ? QUICK : FULL);
    const pulse = await startPulse();
    const agent = await startAgent('sound', {
      env: { AUTH_TOKEN: TOKEN, PULSE_SERVER: pulse.server, SOUND_RATE: '24000', LOG_LEVEL: 'warn', BROADCAST_SERVICE_URL: 'ws://127.0.0.1:9/' },
    });
    const chromium = await launchChromium(['--autoplay-policy=no-user-gesture-required']);
    const player = await startClickPlayer(pulse, 48000);
    try {
      const floor = percentile(await captureFloor(agent.port, player), 50);
      const results: BenchResult[] = [];

      const pcmPage = await openSoundPage(chromium, agent.url, TOKEN);
      await listenOnPage(pcmPage, 'pcm');
      // the steady state: the context, the decoder and the jitter buffer past their first seconds
      await sleep(2000);
      const pcm = await clicksToPage(pcmPage, player, CLICKS);
      const pcmKbps = (await soundPageState(pcmPage)).kbps;
      await stopListeningOnPage(pcmPage);
      await pcmPage.close();
      results.push(...latencyRows('PCM 24 kHz', pcm, floor));

      const opusPage = await openSoundPage(chromium, agent.url, TOKEN);
      await listenOnPage(opusPage, 'opus', 48000);
      await sleep(2000);
      const opus = await clicksToPage(opusPage, player, CLICKS);
      const opusKbps = (await soundPageState(opusPage)).kbps;
      results.push(...latencyRows('Opus 48 kbit/s, 10 ms frames', opus, floor));
      results.push({
        measure: 'Opus stream, 48 kHz mono, as the page received it',
        unit: 'kbit/s',
        value: opusKbps,
        reference: { name: 'PCM stream, 24 kHz mono', value: pcmKbps },
        better: 'lower',
        target: { value: { max: 64 } },
      });

      // the same Opus stream, minutes later
      const minuteOne = sorted((await clicksToPage(opusPage, player, LATER_CLICKS)).rendered);
      const untilLast = Math.max(0, STREAM_SECONDS * 1000 - 90_000);
      await sleep(untilLast);
      const minuteLast = sorted((await clicksToPage(opusPage, player, LATER_CLICKS)).rendered);
      const state = await soundPageState(opusPage);
      const streamed = STREAM_SECONDS >= 120 ? `${STREAM_SECONDS / 60} min` : `${STREAM_SECONDS} s`;
      results.push({
        measure: `Opus: click to page output after ${streamed} of stream, p50 of ${LATER_CLICKS} (${state.underruns} gaps)`,
        unit: 'ms',
        value: percentile(minuteLast, 50),
        reference: { name: 'the same stream at its start, p50', value: percentile(minuteOne, 50) },
        better: 'lower',
        target: { ratio: { max: 1.25 } },
      });
      await stopListeningOnPage(opusPage);
      await opusPage.close();

      const micPage = await openSoundPage(chromium, agent.url, TOKEN);
      const mic = sorted(await pageToMicrophone(micPage, pulse, quick ? 5 : 20));
      await micPage.close();
      results.push({
        measure: `page oscillator to parec on the microphone source, p50 of ${mic.length}`,
        unit: 'ms',
        value: percentile(mic, 50),
        reference: { name: 'click played into the source input, p50', value: percentile(await sourceFloor(pulse, quick ? 5 : 20), 50) },
        better: 'lower',
        target: { value: { max: 60 } },
      });
      return results;
    } finally {
      player.stop();
      await chromium.close();
      await agent.stop();
      await pulse.stop();
    }
  },
};

export default suite;
