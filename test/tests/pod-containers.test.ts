import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { podmanMissing, startContainerPod, type ContainerPod, type PodLayout } from '@desktop-agents/tools/container-pod';
import { waitFor } from '@desktop-agents/tools/harness';
import { containerDesktop, describeBehindRouter, routerDeployment } from './behind-router.js';

// The product as it ships: compose/desktop-pod.yaml played on podman, every agent in its own container, reached
// only over the pod's network, and a user's whole session through them. Without root or podman it is skipped, and
// the skip says why.
const missing = podmanMissing();

interface BusEvent {
  method: string;
  data?: unknown;
}

/** A browser's bus connection: every frame it receives, parsed. */
class BusTab {
  readonly events: BusEvent[] = [];
  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data, binary) => {
      if (!binary) this.events.push(JSON.parse(String(data)) as BusEvent);
    });
  }
  static async open(pod: ContainerPod): Promise<BusTab> {
    const socket = new WebSocket(`${pod.url('broadcast').replace('http', 'ws')}/?jwt_token=${pod.token}`);
    // listening from the start: the first counter can arrive with the upgrade's reply, before 'open' is handled
    const tab = new BusTab(socket);
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    return tab;
  }
  async next(what: string, match: (e: BusEvent) => boolean, timeoutMs = 20_000): Promise<BusEvent> {
    return waitFor(what, async () => this.events.find(match), timeoutMs, 100);
  }
}

/** A terminal of the webshell container, as the UI opens one: its screen is everything the shell wrote. */
class Terminal {
  private screen = '';
  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => (this.screen += String(data)));
  }
  static async open(pod: ContainerPod): Promise<Terminal> {
    const base = pod.url('webshell');
    const created = await fetch(`${base}/terminals?cols=120&rows=30`, { method: 'POST', headers: { ABCAuthorization: `Bearer ${pod.token}` } });
    expect(created.status).toBe(200);
    const pid = (await created.json()) as number;
    const socket = new WebSocket(`${base.replace('http', 'ws')}/terminals/${pid}?${pod.token}`);
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    return new Terminal(socket);
  }
  /** Types a command line and waits for the marker it prints at the end; resolves what it printed before. */
  async run(command: string, timeoutMs = 20_000): Promise<string> {
    const marker = `done-${randomBytes(4).toString('hex')}`;
    const from = this.screen.length;
    // the marker is built by the shell, so the echo of the typed line does not match it
    this.socket.send(`${command}; echo "${marker.slice(0, 5)}""${marker.slice(5)}"\r`);
    const at = await waitFor(`"${command}" in the terminal`, async () => this.screen.indexOf(marker, from) + 1, timeoutMs, 100);
    return this.screen.slice(from, at - 1);
  }
}

const auth = (pod: ContainerPod) => ({ ABCAuthorization: `Bearer ${pod.token}` });

/** "96Mi", "1Gi" → MiB. */
const mebibytes = (quantity: string | undefined): number => {
  const match = /^(\d+)(Mi|Gi)$/.exec(quantity ?? '');
  return match ? Number(match[1]) * (match[2] === 'Gi' ? 1024 : 1) : Number.NaN;
};

/** Each container's memory now beside its request or limit in the manifest, for those above it. */
async function overBudget(pod: ContainerPod, key: 'requests' | 'limits'): Promise<string[]> {
  const usage = await pod.memory();
  return pod.manifest.spec.containers.flatMap((c) => {
    const used = usage.get(c.name) ?? Number.NaN;
    const budget = mebibytes(c.resources?.[key]?.['memory']);
    return used <= budget ? [] : [`${c.name}: ${used.toFixed(1)} MiB, ${key} ${budget} MiB`];
  });
}

// the manifest as written (one container per agent), and the two-container pod generated from it (one process each)
const layouts: PodLayout[] = ['per-agent', 'two-containers'];

describe.skipIf(missing !== undefined).each(layouts)(`the desktop pod on podman, %s${missing ? ` (skipped: ${missing})` : ''}`, (layout) => {
  let pod: ContainerPod;
  let tab: BusTab;
  // token mode behind the router: the operator's desktop signing key and the public origin (ALLOWED_ORIGINS)
  const deployment = routerDeployment();

  beforeAll(async () => {
    const env = { JWT_PUBLIC_KEY: deployment.key.publicKey, JWT_ANY_DESKTOP: 'true', ALLOWED_ORIGINS: await deployment.publicOrigin() };
    pod = await startContainerPod({ layout, name: `desktop-test-${randomBytes(3).toString('hex')}`, readyTimeoutMs: 120_000, env });
    tab = await BusTab.open(pod);
  }, 1_800_000);
  afterAll(async () => {
    tab?.socket.close();
    await pod?.stop();
  }, 60_000);

  it('idles within the memory each container requests in the manifest', async () => {
    expect(await overBudget(pod, 'requests')).toEqual([]);
  });

  it('counts a browser on the bus (connect.counter)', async () => {
    await tab.next('connect.counter for the first tab', (e) => e.method === 'connect.counter' && Number(e.data) >= 1);
    const second = await BusTab.open(pod);
    try {
      await tab.next('connect.counter for two tabs', (e) => e.method === 'connect.counter' && e.data === 2);
    } finally {
      second.socket.close();
    }
    await tab.next('connect.counter back to one', (e) => e.method === 'connect.counter' && e.data === 1);
  });

  it("reads the desktop's idle time and serves a browser's paste from the spawner's container, over the X protocol", async () => {
    const idle = await fetch(`${pod.url('spawner')}/spawner/idle`, { headers: auth(pod) });
    expect(idle.status).toBe(200);
    expect(((await idle.json()) as { data: { idleMs: unknown } }).data.idleMs).toEqual(expect.any(Number));
    // pasted by the browser (owned on CLIPBOARD and PRIMARY), read back from PRIMARY by clipboardsync, announced
    const text = `pasted ${randomBytes(4).toString('hex')}`;
    tab.socket.send(JSON.stringify({ method: 'clipboard.set', data: { mime: 'text/plain', text } }));
    await waitFor(
      'clipboardsync of the paste',
      async () => {
        await fetch(`${pod.url('spawner')}/spawner/clipboardsync`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...auth(pod) },
          body: '{}',
        });
        return tab.events.some((e) => e.method === 'clipboard.changed' && JSON.stringify(e.data).includes(text));
      },
      20_000,
      500,
    );
  });

  it("launches an app of the desktop image from the spawner's container: its window is in window.list on the bus", async () => {
    const reply = await fetch(`${pod.url('spawner')}/spawner/launch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...auth(pod) },
      body: JSON.stringify({ command: 'xeyes.XEyes' }),
    });
    expect(reply.status, await reply.clone().text()).toBe(200);
    await tab.next('window.list with xeyes', (e) => e.method === 'window.list' && JSON.stringify(e.data).includes('XEyes'));
  });

  it("opens a terminal with the desktop's tools, prints with lp to the printer container, and downloads the PDF", async () => {
    const terminal = await Terminal.open(pod);
    try {
      const found = await terminal.run('command -v lp xeyes');
      expect(found).toMatch(/\/usr\/bin\/lp\b/);
      expect(found).toMatch(/\/usr\/bin\/xeyes\b/);
      const printed = await terminal.run('echo printed-from-the-pod > ~/print-me.txt && lp ~/print-me.txt');
      expect(printed).toMatch(/request id is PDF-\d+/);
    } finally {
      terminal.socket.close();
    }
    const announced = await tab.next('printer.new', (e) => e.method === 'printer.new', 30_000);
    const { path } = announced.data as { path: string };
    const pdf = await fetch(`${pod.url('printerfile')}/printerfiler?file=${encodeURIComponent(`~/${path}`)}`, { headers: auth(pod) });
    expect(pdf.status).toBe(200);
    expect(
      Buffer.from(await pdf.arrayBuffer())
        .subarray(0, 5)
        .toString('latin1'),
    ).toBe('%PDF-');
    // the printer writes the PDF as its own user into the shared sticky folder; the user's printerfile still deletes it
    const deleted = await fetch(`${pod.url('printerfile')}/printerfiler`, {
      method: 'DELETE',
      headers: { ...auth(pod), 'content-type': 'application/json' },
      body: JSON.stringify({ file: `~/${path}` }),
    });
    expect(deleted.status, await deleted.clone().text()).toBe(200);
  });

  it("shows a desktop app's notification (notify-send in a terminal) to the browser, served by the spawner's container on the desktop's session bus", async () => {
    const terminal = await Terminal.open(pod);
    try {
      const sent = await terminal.run("notify-send -t 5000 'Printed from the pod' 'your PDF is ready'; echo notify-exit=$?");
      expect(sent).toMatch(/notify-exit=0/);
    } finally {
      terminal.socket.close();
    }
    const shown = await tab.next('notification', (e) => e.method === 'notification' && (e.data as { summary?: string }).summary === 'Printed from the pod');
    expect(shown.data).toMatchObject({ summary: 'Printed from the pod', body: 'your PDF is ready' });
  });

  it("hears a sound played in the desktop on the sound agent's listener", async () => {
    const listener = new WebSocket(`${pod.url('sound').replace('http', 'ws')}/listen/source/desktop.monitor?jwt_token=${pod.token}`);
    let peak = 0;
    listener.on('message', (data, binary) => {
      if (!binary) return;
      const bytes = data as Buffer;
      for (let i = 0; i + 1 < bytes.length; i += 2) peak = Math.max(peak, Math.abs(bytes.readInt16LE(i)));
    });
    await new Promise((resolve, reject) => listener.once('open', resolve).once('error', reject));
    try {
      // a 440 Hz tone, played by the desktop's own pulse client into the pod's PulseAudio
      const tone = Buffer.alloc(48_000 * 2);
      for (let i = 0; i < 48_000; i++) tone.writeInt16LE(Math.round(15_000 * Math.sin((2 * Math.PI * 440 * i) / 48_000)), i * 2);
      await pod.exec('graphical', ['pacat', '--playback', '--device=desktop', '--format=s16le', '--rate=48000', '--channels=1', '--raw'], {
        input: tone,
        timeoutMs: 20_000,
      });
      await waitFor('loud audio on the listener', async () => peak > 5_000, 15_000, 100);
    } finally {
      listener.close();
    }
  });

  it("serves abcdesktop 4.x's speaker (MPEG-TS from the sound container's ffmpeg) and microphone (a desktop app records it)", async () => {
    const speaker = new WebSocket(`ws://${pod.ip}:29788/sound?jwt_token=${pod.token}`);
    const frames: Buffer[] = [];
    speaker.on('message', (data) => frames.push(data as Buffer));
    await new Promise((resolve, reject) => speaker.once('open', resolve).once('error', reject));
    try {
      await waitFor('MPEG-TS on the speaker port', async () => frames.length >= 3, 15_000, 100);
      expect(frames.every((f) => f.length % 188 === 0 && f[0] === 0x47)).toBe(true);
    } finally {
      speaker.close();
    }

    const microphone = new WebSocket(`ws://${pod.ip}:29789/microphone?jwt_token=${pod.token}`);
    await new Promise((resolve, reject) => microphone.once('open', resolve).once('error', reject));
    // parec in the desktop's container records the source for 2 s while the page talks (float32, 44.1 kHz, 128 a message)
    const recording = pod
      .exec(
        'graphical',
        ['timeout', '2', 'parec', '--device=microphone', '--format=s16le', '--rate=16000', '--channels=1', '--file-format=wav', '/tmp/mic-test.wav'],
        {
          timeoutMs: 10_000,
        },
      )
      .catch(() => undefined);
    const started = Date.now();
    for (let at = 0; Date.now() - started < 2500; at += 128) {
      const message = Buffer.alloc(512);
      for (let i = 0; i < 128; i++) message.writeFloatLE(0.5 * Math.sin((2 * Math.PI * 500 * (at + i)) / 44_100), i * 4);
      microphone.send(message);
      const due = started + ((at + 128) / 44_100) * 1000;
      if (due > Date.now()) await new Promise((resolve) => setTimeout(resolve, due - Date.now()));
    }
    await recording;
    microphone.close();
    const wav = Buffer.from(await pod.exec('graphical', ['base64', '-w0', '/tmp/mic-test.wav']), 'base64');
    let peak = 0;
    for (let i = 44; i + 1 < wav.length; i += 2) peak = Math.max(peak, Math.abs(wav.readInt16LE(i)));
    expect(peak).toBeGreaterThan(5_000);
  });

  it("uploads through the filer's container into the home the graphical container sees", async () => {
    const form = new FormData();
    form.append('fullPath', 'Desktop/from-the-filer.txt');
    form.append('file', new File(['uploaded into the pod'], 'from-the-filer.txt', { type: 'text/plain' }));
    const reply = await fetch(`${pod.url('filer')}/filer`, { method: 'POST', headers: auth(pod), body: form });
    expect(reply.status, await reply.clone().text()).toBe(200);
    expect(await pod.exec('graphical', ['cat', '/home/balloon/Desktop/from-the-filer.txt'])).toBe('uploaded into the pod');
  });

  it.each([
    { container: 'pulseaudio', agent: 'sound' },
    { container: 'printer', agent: 'printerfile' },
  ])('reports $container stopped on $agent /readyz, and recovers by itself when it starts again', async ({ container, agent }) => {
    await pod.stopContainer(container);
    try {
      await waitFor(`${agent} not ready`, async () => (await fetch(`${pod.url(agent)}/readyz`)).status === 503, 30_000, 250);
      const reason = (await (await fetch(`${pod.url(agent)}/readyz`)).json()) as Record<string, unknown>;
      expect(JSON.stringify(reason)).not.toBe('{}');
    } finally {
      await pod.startContainer(container);
    }
    await pod.waitReady(60_000, [container]);
    await waitFor(`${agent} ready again`, async () => (await fetch(`${pod.url(agent)}/readyz`)).status === 200, 60_000, 250);
  });

  describeBehindRouter('behind the router, in token mode', deployment, async () => containerDesktop(pod, 'token'));

  it('stays within the memory limit of each container after the whole session', async () => {
    expect(await overBudget(pod, 'limits')).toEqual([]);
  });
});
