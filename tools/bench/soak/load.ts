// A user's day on the container pod, as the soak drives it: bus clients, terminals, transfers (multipart and tus cut
// and resumed), an audio listener and a microphone talker, prints, clipboard copies, windows opened and closed. Every
// client records its operations and errors in the SoakRecord; none of them stops the others.
import { createHash, randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type WebSocket from 'ws';
import type { ContainerPod } from '../../container-pod/index.js';
import { waitFor } from '../../harness/index.js';
import { openSocket } from '../clients.js';
import { expectStatus } from '../types.js';
import type { SoakRecord } from './record.js';

/** How much of each activity, and how often (seconds). */
export interface LoadShape {
  busClients: number;
  helloEveryS: number;
  bigFrameBytes: number;
  bigFrameEveryS: number;
  terminals: number;
  terminalCommandEveryS: number;
  transferMiB: number;
  transferEveryS: number;
  resumableMiB: number;
  resumableEveryS: number;
  talkEveryS: number;
  talkS: number;
  printEveryS: number;
  clipboardEveryS: number;
  windowsEveryS: number;
}

/** The issue's user's day: what one busy desktop does. */
export const DAY_LOAD: LoadShape = {
  busClients: 50,
  helloEveryS: 1,
  bigFrameBytes: 200 * 1024,
  bigFrameEveryS: 60,
  terminals: 5,
  terminalCommandEveryS: 60,
  transferMiB: 50,
  transferEveryS: 120,
  resumableMiB: 8,
  resumableEveryS: 300,
  talkEveryS: 300,
  talkS: 60,
  printEveryS: 180,
  clipboardEveryS: 30,
  windowsEveryS: 60,
};

/** Every activity at least once in a few minutes (the CI form). */
export const SHORT_LOAD: LoadShape = {
  ...DAY_LOAD,
  terminalCommandEveryS: 45,
  transferEveryS: 50,
  resumableEveryS: 70,
  talkEveryS: 80,
  talkS: 20,
  printEveryS: 60,
  windowsEveryS: 40,
};

/** A tenth of the load (one active user among many on a node): fewer clients, smaller files, the same periods. */
export function tenthOf(shape: LoadShape): LoadShape {
  return {
    ...shape,
    busClients: Math.max(1, Math.round(shape.busClients / 10)),
    terminals: 1,
    transferMiB: Math.max(1, Math.round(shape.transferMiB / 10)),
    resumableMiB: 1,
  };
}

interface BusEvent {
  method: string;
  data?: unknown;
}

/** The page's own bus connection: the events the checks wait for. */
class EventTab {
  private readonly waiting = new Set<(e: BusEvent) => void>();
  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data, binary) => {
      if (binary) return;
      const text = String(data);
      if (text.length > 100_000) return; // the bus clients' big frames: nothing a check waits for
      const event = JSON.parse(text) as BusEvent;
      for (const w of this.waiting) w(event);
    });
  }
  static async open(pod: ContainerPod): Promise<EventTab> {
    return new EventTab(await openSocket(`${pod.url('broadcast').replace('http', 'ws')}/?jwt_token=${pod.token}`));
  }
  next(what: string, match: (e: BusEvent) => boolean, timeoutMs: number): Promise<BusEvent> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(check);
        reject(new Error(`no ${what} within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      const check = (e: BusEvent) => {
        if (!match(e)) return;
        clearTimeout(timer);
        this.waiting.delete(check);
        resolve(e);
      };
      this.waiting.add(check);
    });
  }
}

export interface Soak {
  pod: ContainerPod;
  record: SoakRecord;
  shape: LoadShape;
  /** performance.now() when the load must stop. */
  endsAt: number;
}

const running = (soak: Soak) => performance.now() < soak.endsAt;
const auth = (soak: Soak) => ({ authorization: `Bearer ${soak.pod.token}` });

/** Runs `task` every `periodS` seconds from `firstS` until the soak ends; a task's error is recorded, never thrown. */
async function every(soak: Soak, kind: string, periodS: number, firstS: number, task: (n: number) => Promise<void>): Promise<void> {
  const start = performance.now();
  for (let n = 0; ; n++) {
    const due = start + (firstS + n * periodS) * 1000;
    if (due >= soak.endsAt) return;
    if (due > performance.now()) await sleep(due - performance.now());
    try {
      await task(n);
      soak.record.done(kind);
    } catch (err) {
      soak.record.fail(kind, err);
    }
  }
}

/** Bus clients: a hello from each every helloEveryS (timed at one client), a big frame from each every bigFrameEveryS. */
async function busClients(soak: Soak): Promise<void> {
  const url = `${soak.pod.url('broadcast').replace('http', 'ws')}/?jwt_token=${soak.pod.token}`;
  const clients = await Promise.all(Array.from({ length: soak.shape.busClients }, () => openSocket(url)));
  const pad = 'x'.repeat(soak.shape.bigFrameBytes);
  clients[0]?.on('message', (raw: Buffer) => {
    const sent = /"t":([\d.]+)/.exec(raw.toString('latin1', 0, 60))?.[1];
    if (sent) soak.record.time('bus', performance.now() - Number(sent));
  });
  for (const client of clients) client.on('close', (code) => running(soak) && soak.record.fail('bus client', new Error(`closed ${code}`)));
  await Promise.all(
    clients.map(async (client, i) => {
      await sleep(Math.random() * soak.shape.helloEveryS * 1000);
      let nextBig = performance.now() + ((i / clients.length) * soak.shape.bigFrameEveryS + 1) * 1000;
      while (running(soak) && client.readyState === client.OPEN) {
        const big = performance.now() >= nextBig;
        if (big) nextBig += soak.shape.bigFrameEveryS * 1000;
        client.send(JSON.stringify({ method: 'hello', data: { t: performance.now(), from: i, ...(big ? { pad } : {}) } }));
        soak.record.done('bus hello');
        await sleep(soak.shape.helloEveryS * 1000);
      }
    }),
  );
  for (const client of clients) client.removeAllListeners('close').close();
}

/** A terminal typing (each keystroke's echo timed) and, every terminalCommandEveryS, printing a lot of output. */
async function terminal(soak: Soak, index: number): Promise<void> {
  const base = soak.pod.url('webshell');
  const created = await expectStatus(await fetch(`${base}/terminals?cols=120&rows=30`, { method: 'POST', headers: auth(soak) }), 'a new terminal');
  const pid = (await created.json()) as number;
  const socket = await openSocket(`${base.replace('http', 'ws')}/terminals/${pid}?${soak.pod.token}`);
  let tail = '';
  let onOutput: (() => void) | undefined;
  socket.on('message', (data) => {
    tail = (tail + String(data)).slice(-4096);
    onOutput?.();
  });
  socket.on('close', (code) => running(soak) && soak.record.fail('terminal', new Error(`terminal ${index} closed ${code}`)));
  const waitOutput = (found: () => boolean, timeoutMs: number) =>
    new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => ((onOutput = undefined), resolve(false)), timeoutMs);
      onOutput = () => found() && (clearTimeout(timer), (onOutput = undefined), resolve(true));
    });
  await sleep(500 + index * 300);
  let nextCommand = performance.now() + (soak.shape.terminalCommandEveryS / soak.shape.terminals) * index * 1000;
  for (let typed = 0, command = 0; running(soak) && socket.readyState === socket.OPEN;) {
    if (performance.now() >= nextCommand) {
      nextCommand += soak.shape.terminalCommandEveryS * 1000;
      const marker = `soak-${index}-${command++}`;
      tail = '';
      // the marker is joined by the shell, so the typed line's echo does not match it
      socket.send(`\x15yes | head -n 20000; ls -R /usr; echo "${marker.slice(0, 5)}""${marker.slice(5)}"\r`);
      if (await waitOutput(() => tail.includes(marker), 120_000)) soak.record.done('terminal output');
      else soak.record.fail('terminal output', new Error(`terminal ${index}: no end of output within 120 s`));
      typed = 0;
      continue;
    }
    tail = '';
    const t0 = performance.now();
    socket.send(typed % 20 === 19 ? '\x15z' : 'z');
    typed += 1;
    if (await waitOutput(() => tail.includes('z'), 5_000)) {
      soak.record.time('echo', performance.now() - t0);
      soak.record.done('keystroke');
    } else soak.record.fail('keystroke', new Error(`terminal ${index}: no echo within 5 s`));
    await sleep(200);
  }
  socket.removeAllListeners('close').close();
}

/** The bytes of a download, hashed as they arrive. */
async function downloadHash(soak: Soak, path: string): Promise<string> {
  const response = await expectStatus(
    await fetch(`${soak.pod.url('filer')}/filer?file=${encodeURIComponent(`~/${path}`)}`, { headers: auth(soak) }),
    `download ${path}`,
  );
  const hash = createHash('sha256');
  for await (const chunk of response.body ?? []) hash.update(chunk as Uint8Array);
  return hash.digest('hex');
}

async function remove(soak: Soak, path: string, agent = 'filer', prefix = '/filer'): Promise<void> {
  await expectStatus(
    await fetch(`${soak.pod.url(agent)}${prefix}`, {
      method: 'DELETE',
      headers: { ...auth(soak), 'content-type': 'application/json' },
      body: JSON.stringify({ file: `~/${path}` }),
    }),
    `delete ${path}`,
  );
}

function verify(soak: Soak, path: string, sent: string, received: string): void {
  if (sent === received) soak.record.transfersVerified += 1;
  else {
    soak.record.transfersCorrupted += 1;
    throw new Error(`${path} came back different (sha256 ${received.slice(0, 12)}, sent ${sent.slice(0, 12)})`);
  }
}

/** A multipart upload and its download, compared byte for byte, then deleted. */
async function transfer(soak: Soak, n: number): Promise<void> {
  const bytes = randomBytes(soak.shape.transferMiB * 2 ** 20);
  const sent = createHash('sha256').update(bytes).digest('hex');
  const path = `soak/transfer-${n}.bin`;
  const form = new FormData();
  form.append('fullPath', path);
  form.append('file', new File([bytes], 'transfer.bin'));
  await expectStatus(await fetch(`${soak.pod.url('filer')}/filer?overwrite=true`, { method: 'POST', headers: auth(soak), body: form }), `upload ${path}`);
  verify(soak, path, sent, await downloadHash(soak, path));
  await remove(soak, path);
}

/** PATCHes `body` at `offset`, cut after `cutAfter` bytes (the connection destroyed, as a lost network does). */
function patchCut(url: URL, headers: Record<string, string>, body: Buffer, offset: number, cutAfter: number): Promise<void> {
  return new Promise((resolve) => {
    const req = httpRequest(url, {
      method: 'PATCH',
      headers: {
        ...headers,
        'tus-resumable': '1.0.0',
        'upload-offset': String(offset),
        'content-type': 'application/offset+octet-stream',
        'content-length': body.length,
      },
    });
    req.on('error', () => resolve());
    req.on('response', (res) => (res.resume(), resolve()));
    req.write(body.subarray(0, cutAfter), () => setTimeout(() => (req.destroy(), resolve()), 200));
  });
}

/** A tus upload cut part way, resumed from the offset the server reports, then downloaded and compared. */
async function resumable(soak: Soak, n: number): Promise<void> {
  const bytes = randomBytes(soak.shape.resumableMiB * 2 ** 20);
  const sent = createHash('sha256').update(bytes).digest('hex');
  const path = `soak/resumed-${n}.bin`;
  const base = soak.pod.url('filer');
  const tus = { ...auth(soak), 'tus-resumable': '1.0.0' };
  const created = await expectStatus(
    await fetch(`${base}/filer/uploads`, {
      method: 'POST',
      headers: { ...tus, 'upload-length': String(bytes.length), 'upload-metadata': `fullPath ${Buffer.from(path).toString('base64')}` },
    }),
    'tus create',
    201,
  );
  const location = new URL(created.headers.get('location') ?? '', base);
  await patchCut(location, auth(soak), bytes, 0, Math.floor(bytes.length * 0.4));
  const head = await expectStatus(await fetch(location, { method: 'HEAD', headers: tus }), 'tus offset');
  const offset = Number(head.headers.get('upload-offset'));
  if (!(offset >= 0 && offset <= bytes.length)) throw new Error(`tus offset ${offset} after a cut`);
  await expectStatus(
    await fetch(location, {
      method: 'PATCH',
      headers: { ...tus, 'upload-offset': String(offset), 'content-type': 'application/offset+octet-stream' },
      body: bytes.subarray(offset),
    }),
    'tus resume',
    204,
  );
  verify(soak, path, sent, await downloadHash(soak, path));
  await remove(soak, path);
}

/** The sound agent's listener for the whole soak: the gap between consecutive frames. */
async function listener(soak: Soak): Promise<void> {
  while (running(soak)) {
    const socket = await openSocket(`${soak.pod.url('sound').replace('http', 'ws')}/listen/source/desktop.monitor?jwt_token=${soak.pod.token}`);
    let last = 0;
    socket.on('message', (_data, binary) => {
      if (!binary) return;
      const now = performance.now();
      if (last > 0) soak.record.time('audioGap', now - last);
      last = now;
    });
    const closed = new Promise<number>((resolve) => socket.once('close', resolve));
    const stop = sleep(Math.max(0, soak.endsAt - performance.now())).then(() => 'end' as const);
    const first = await Promise.race([closed, stop]);
    if (first === 'end') {
      socket.close();
      return;
    }
    soak.record.fail('audio listener', new Error(`listener closed ${first}`));
    await sleep(1000);
  }
}

/** abcdesktop 4.x's microphone (float32, 44.1 kHz, 128 samples a message) talking a tone for talkS seconds. */
async function talk(soak: Soak): Promise<void> {
  const socket = await openSocket(`ws://${soak.pod.ip}:29789/microphone?jwt_token=${soak.pod.token}`);
  let closed: number | undefined;
  socket.on('close', (code) => (closed = code));
  const started = performance.now();
  for (let at = 0; performance.now() - started < soak.shape.talkS * 1000 && running(soak); at += 128) {
    if (closed !== undefined) throw new Error(`microphone closed ${closed} while talking`);
    const message = Buffer.alloc(512);
    for (let i = 0; i < 128; i++) message.writeFloatLE(0.3 * Math.sin((2 * Math.PI * 500 * (at + i)) / 44_100), i * 4);
    socket.send(message);
    const due = started + ((at + 128) / 44_100) * 1000;
    if (due - performance.now() > 1) await sleep(due - performance.now());
  }
  socket.close();
}

/** A text printed from the desktop (lp to the printer container): its PDF announced, downloaded, then deleted. */
async function print(soak: Soak, tab: EventTab, n: number): Promise<void> {
  const announced = tab.next('printer.new', (e) => e.method === 'printer.new', 90_000);
  await soak.pod.exec('graphical', ['lp', '-t', `soak-${n}`], { input: `soak print ${n}\n`.repeat(200), timeoutMs: 30_000 });
  const { path } = (await announced).data as { path: string };
  const pdf = await expectStatus(
    await fetch(`${soak.pod.url('printerfile')}/printerfiler?file=${encodeURIComponent(`~/${path}`)}`, { headers: auth(soak) }),
    'the PDF',
  );
  const head = Buffer.from(await pdf.arrayBuffer())
    .subarray(0, 5)
    .toString('latin1');
  if (head !== '%PDF-') throw new Error(`printed file starts with ${JSON.stringify(head)}`);
  await remove(soak, path, 'printerfile', '/printerfiler');
}

/** A browser's copy owned on the desktop, read back from X by clipboardsync and announced to the browsers. */
async function clipboard(soak: Soak, tab: EventTab, n: number): Promise<void> {
  const text = `soak clipboard ${n} ${randomBytes(6).toString('hex')}`;
  tab.socket.send(JSON.stringify({ method: 'clipboard.set', data: { mime: 'text/plain', text } }));
  const changed = tab.next('clipboard.changed', (e) => e.method === 'clipboard.changed' && (e.data as { text?: string }).text === text, 15_000);
  await sleep(300);
  await expectStatus(await fetch(`${soak.pod.url('spawner')}/spawner/clipboardsync`, { method: 'POST', headers: auth(soak) }), 'clipboardsync');
  await changed;
}

interface ListedWindow {
  id: number;
  pid: number | null;
  wm_class: string;
}

async function windowsOf(soak: Soak): Promise<ListedWindow[]> {
  const reply = await expectStatus(await fetch(`${soak.pod.url('spawner')}/spawner/getwindowslist`, { headers: auth(soak) }), 'getwindowslist');
  return ((await reply.json()) as { data: ListedWindow[] }).data;
}

/** An application launched, its window listed, closed through the spawner, and gone (xeyes sets no _NET_WM_PID: its
 * window is the XEyes one that was not there before). */
async function windowCycle(soak: Soak): Promise<void> {
  const before = new Set((await windowsOf(soak)).map((w) => w.id));
  await expectStatus(
    await fetch(`${soak.pod.url('spawner')}/spawner/launch`, {
      method: 'POST',
      headers: { ...auth(soak), 'content-type': 'application/json' },
      body: JSON.stringify({ command: 'xeyes.XEyes' }),
    }),
    'launch xeyes',
  );
  const window = await waitFor(
    'the launched window',
    async () => (await windowsOf(soak)).find((w) => !before.has(w.id) && w.wm_class.includes('XEyes')),
    20_000,
    250,
  );
  await expectStatus(
    await fetch(`${soak.pod.url('spawner')}/spawner/closewindows`, {
      method: 'POST',
      headers: { ...auth(soak), 'content-type': 'application/json' },
      body: JSON.stringify({ windowsid: [window.id] }),
    }),
    'closewindows',
  );
  await waitFor('the window gone', async () => !(await windowsOf(soak)).some((w) => w.id === window.id), 20_000, 250);
}

/** Runs the whole load until `soak.endsAt`; resolves when every client has stopped. */
export async function driveDay(soak: Soak): Promise<void> {
  const { shape, record } = soak;
  const tab = await EventTab.open(soak.pod);
  const guarded = (kind: string, work: () => Promise<void>) => work().catch((err: unknown) => record.fail(kind, err));
  try {
    await Promise.all([
      guarded('bus clients', () => busClients(soak)),
      ...Array.from({ length: shape.terminals }, (_, i) => guarded('terminal', () => terminal(soak, i))),
      guarded('audio listener', () => listener(soak)),
      every(soak, 'transfer', shape.transferEveryS, 5, (n) => transfer(soak, n)),
      every(soak, 'resumable upload', shape.resumableEveryS, 20, (n) => resumable(soak, n)),
      every(soak, 'microphone', shape.talkEveryS, 30, () => talk(soak)),
      every(soak, 'print', shape.printEveryS, 10, (n) => print(soak, tab, n)),
      every(soak, 'clipboard', shape.clipboardEveryS, 3, (n) => clipboard(soak, tab, n)),
      every(soak, 'window', shape.windowsEveryS, 8, () => windowCycle(soak)),
    ]);
  } finally {
    tab.socket.close();
  }
}
