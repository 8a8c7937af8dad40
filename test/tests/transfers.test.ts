// TRANSFER_POLICY where the bytes pass: uploads (multipart and tus), downloads and zips (the filer), printed PDFs
// (printerfile), the clipboard both ways (the spawner on Xvfb); decided on the sniffed content, never the name; and
// the audit trail of each: the JSON log line, the bus event the pod's local services get (a browser does not), the
// counters.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import yauzl from 'yauzl';
import { makeRunDir, startAgent, startXvfb, waitFor, type RunningAgent, type XServer } from '@desktop-agents/tools/harness';

const TOKEN = 'transfers-suite-token-0001';
const COOKIE = 'transfers-suite-cookie';
const auth = { authorization: `Bearer ${TOKEN}` };

/** The first bytes of a Windows executable (MZ header, PE signature): what a renamed .exe starts with. */
function windowsExecutable(bytes = 8192): Buffer {
  const exe = Buffer.alloc(bytes, 0x90);
  exe.write('MZ', 0, 'latin1');
  exe.writeUInt32LE(0x80, 0x3c);
  exe.write('PE\0\0', 0x80, 'latin1');
  return exe;
}

interface Frame {
  method: string;
  data?: Record<string, unknown>;
}

/** A bus connection keeping every frame: a local service (the cookie) or a browser (the token). */
async function busClient(bus: RunningAgent, as: 'service' | 'browser'): Promise<{ frames: Frame[]; socket: WebSocket }> {
  const socket =
    as === 'service'
      ? new WebSocket(`ws://127.0.0.1:${bus.port}/`, { headers: { broadcast_cookie: COOKIE } })
      : new WebSocket(`ws://127.0.0.1:${bus.port}/broadcast?jwt_token=${TOKEN}`);
  const frames: Frame[] = [];
  socket.on('message', (raw: Buffer) => frames.push(JSON.parse(raw.toString()) as Frame));
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  return { frames, socket };
}

const audits = (frames: Frame[]) => frames.filter((f) => f.method === 'transfer.audit').map((f) => f.data ?? {});
const auditLines = (agent: RunningAgent) => agent.logLines().filter((l) => l['audit'] === true);

function zipNames(zip: Buffer): Promise<Map<string, Buffer>> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(zip, { lazyEntries: true }, (err, file) => {
      if (err || !file) return reject(err ?? new Error('no zip'));
      const entries = new Map<string, Buffer>();
      file.on('entry', (entry: yauzl.Entry) => {
        if (entry.fileName.endsWith('/')) return file.readEntry();
        file.openReadStream(entry, (e, stream) => {
          if (e || !stream) return reject(e ?? new Error('no stream'));
          const chunks: Buffer[] = [];
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('end', () => {
            entries.set(entry.fileName, Buffer.concat(chunks));
            file.readEntry();
          });
        });
      });
      file.once('end', () => resolve(entries));
      file.once('error', reject);
      file.readEntry();
    });
  });
}

let run: { dir: string; remove: () => Promise<void> };
let bus: RunningAgent;
let service: { frames: Frame[]; socket: WebSocket };
let browser: { frames: Frame[]; socket: WebSocket };

beforeAll(async () => {
  run = await makeRunDir('transfers');
  bus = await startAgent('broadcast', { env: { AUTH_TOKEN: TOKEN, BROADCAST_COOKIE: COOKIE } });
  service = await busClient(bus, 'service');
  browser = await busClient(bus, 'browser');
});
afterAll(async () => {
  service?.socket.terminate();
  browser?.socket.terminate();
  await bus?.stop();
  await run?.remove();
});

const agentEnv = (policy: unknown) => ({
  AUTH_TOKEN: TOKEN,
  BROADCAST_COOKIE: COOKIE,
  BROADCAST_SERVICE_TCP_PORT: String(bus.port),
  TRANSFER_POLICY: JSON.stringify(policy),
});

describe('the filer under TRANSFER_POLICY', () => {
  let home: string;
  let filer: RunningAgent;
  const policy = {
    upload: { deny: ['application/x-msdownload', 'application/x-dosexec'], maxBytes: 1024 * 1024, paths: ['Desktop', 'Documents'] },
    download: { deny: ['application/x-msdownload', 'application/x-dosexec'], maxBytes: 1024 * 1024, paths: ['Desktop', 'Documents', 'Public'] },
  };
  const upload = (fullPath: string | undefined, bytes: Buffer, name = 'file.bin') => {
    const form = new FormData();
    if (fullPath) form.append('fullPath', fullPath);
    form.append('file', new File([bytes], name, { type: 'text/plain' }));
    return fetch(`${filer.url}/filer`, { method: 'POST', headers: auth, body: form });
  };
  const download = (path: string) => fetch(`${filer.url}/filer?${new URLSearchParams({ file: path })}`, { headers: auth });

  beforeAll(async () => {
    home = join(run.dir, 'filer-home');
    for (const folder of ['Desktop', 'Documents', 'Public', 'Music']) await mkdir(join(home, folder), { recursive: true });
    filer = await startAgent('filer', { env: { ...agentEnv(policy), HOME: home, FILER_UPLOAD_DIR: '~/Desktop' } });
    // the filer's bus connection is up: its audit events reach the service
    await waitFor(
      'filer on the bus',
      async () => (await fetch(`${bus.url}/metrics`, { headers: auth }).then((r) => r.text())).match(/broadcast_clients\{kind="local"\} [2-9]/),
      10_000,
    );
  });
  afterAll(async () => {
    await filer?.stop();
  });

  it('refuses a Windows executable named notes.txt as an upload, on its content: 403 with the rule, nothing written, audited', async () => {
    const seen = audits(service.frames).length;
    const reply = await upload('Desktop/notes.txt', windowsExecutable(), 'notes.txt');
    const body = (await reply.json()) as { code: number; data: string };
    expect(reply.status).toBe(403);
    expect(body.code).toBe(403);
    expect(body.data).toMatch(/^upload of Desktop\/notes\.txt refused: upload\.deny application\/x-ms(download|dosexec)/);
    expect(existsSync(join(home, 'Desktop', 'notes.txt'))).toBe(false);
    // no temp file left beside it either
    expect((await readdir(join(home, 'Desktop'))).filter((n) => n.startsWith('.'))).toEqual([]);
    const event = await waitFor(
      'the audit event',
      async () =>
        audits(service.frames)
          .slice(seen)
          .find((a) => a['result'] === 'refused'),
      5000,
    );
    expect(event).toMatchObject({ direction: 'upload', subject: 'Desktop/notes.txt', result: 'refused', client: '127.0.0.1' });
    expect(String(event['type'])).toMatch(/^application\/x-ms(download|dosexec)$/);
    expect(JSON.stringify(event)).not.toContain(TOKEN);
    const line = auditLines(filer).find((l) => l['result'] === 'refused' && l['direction'] === 'upload');
    expect(line).toMatchObject({ audit: true, subject: 'Desktop/notes.txt', rule: expect.stringMatching(/^upload\.deny/) });
    expect(JSON.stringify(filer.logLines())).not.toContain(TOKEN);
  });

  it('lands an upload sent without a folder in FILER_UPLOAD_DIR, audited as allowed with its sniffed type', async () => {
    const reply = await upload(undefined, Buffer.from('plain words\n'), 'words.txt');
    expect(reply.status, await reply.clone().text()).toBe(200);
    expect(existsSync(join(home, 'Desktop', 'words.txt'))).toBe(true);
    const event = await waitFor('the audit event', async () => audits(service.frames).find((a) => a['subject'] === 'Desktop/words.txt'), 5000);
    expect(event).toMatchObject({ direction: 'upload', result: 'allowed', type: 'text/plain', bytes: 12 });
    const settings = (await (await fetch(`${filer.url}/filer/settings`, { headers: auth })).json()) as { data: Record<string, unknown> };
    expect(settings.data).toEqual({ uploadDir: '~/Desktop', readable: ['Desktop', 'Documents', 'Public'], writable: ['Desktop', 'Documents'] });
  });

  it('refuses an upload over maxBytes (removing what was written) and one outside the paths', async () => {
    const big = await upload('Documents/big.txt', Buffer.alloc(1024 * 1024 + 10, 'a'));
    expect(big.status).toBe(403);
    expect(((await big.json()) as { data: string }).data).toMatch(/upload\.maxBytes 1048576/);
    expect(await readdir(join(home, 'Documents'))).toEqual([]);
    const elsewhere = await upload('Music/song.txt', Buffer.from('la la'));
    expect([elsewhere.status, ((await elsewhere.json()) as { data: string }).data]).toEqual([
      403,
      'upload of Music/song.txt refused: upload.paths does not include Music/song.txt',
    ]);
  });

  it('refuses the same executable bytes as a download and leaves them out of a zip, listed in REFUSED.txt', async () => {
    await writeFile(join(home, 'Public', 'notes.txt'), windowsExecutable());
    await writeFile(join(home, 'Public', 'readme.txt'), 'read me');
    const refused = await download('~/Public/notes.txt');
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { data: string }).data).toMatch(/^download of Public\/notes\.txt refused: download\.deny/);
    expect((await download('~/Public/readme.txt')).status).toBe(200);
    const zip = await download('~/Public');
    expect(zip.status).toBe(200);
    expect(zip.headers.get('x-refused-entries')).toBe('1');
    const entries = await zipNames(Buffer.from(await zip.arrayBuffer()));
    expect([...entries.keys()].sort()).toEqual(['REFUSED.txt', 'readme.txt']);
    expect(entries.get('REFUSED.txt')?.toString()).toMatch(/^notes\.txt\tdownload\.deny application\/x-ms/);
    await waitFor(
      'the zip entry audited',
      async () => audits(service.frames).find((a) => a['subject'] === 'Public/notes.txt' && a['result'] === 'refused'),
      5000,
    );
  });

  it('downloads and lists only what download.paths reach, and refuses files over maxBytes', async () => {
    await writeFile(join(home, 'Music', 'song.txt'), 'la la');
    expect((await download('~/Music/song.txt')).status).toBe(403);
    const list = (await (await fetch(`${filer.url}/filer/directory/list?directory=~`, { headers: auth })).json()) as string[];
    expect(list.sort()).toEqual(['Desktop', 'Documents', 'Public']);
    expect((await fetch(`${filer.url}/filer/entries?directory=~/Music`, { headers: auth })).status).toBe(403);
    await writeFile(join(home, 'Documents', 'large.txt'), Buffer.alloc(1024 * 1024 + 1, 'b'));
    const large = await download('~/Documents/large.txt');
    expect([large.status, ((await large.json()) as { data: string }).data]).toEqual([403, expect.stringMatching(/download\.maxBytes 1048576/)]);
  });

  it('refuses a resumable upload on its first chunk (403, the same text, the upload removed) and by its declared size at creation', async () => {
    const tus = { ...auth, 'tus-resumable': '1.0.0' };
    const exe = windowsExecutable();
    const created = await fetch(`${filer.url}/filer/uploads`, {
      method: 'POST',
      headers: { ...tus, 'upload-length': String(exe.length), 'upload-metadata': `fullPath ${Buffer.from('Documents/notes.txt').toString('base64')}` },
    });
    expect(created.status).toBe(201);
    const location = new URL(created.headers.get('location') ?? '', filer.url);
    const patched = await fetch(location, {
      method: 'PATCH',
      headers: { ...tus, 'upload-offset': '0', 'content-type': 'application/offset+octet-stream' },
      body: exe,
    });
    expect(patched.status).toBe(403);
    expect(await patched.text()).toMatch(/^upload of Documents\/notes\.txt refused: upload\.deny application\/x-ms/);
    expect([404, 410]).toContain((await fetch(location, { method: 'HEAD', headers: tus })).status);
    expect(existsSync(join(home, 'Documents', 'notes.txt'))).toBe(false);

    const tooLarge = await fetch(`${filer.url}/filer/uploads`, {
      method: 'POST',
      headers: { ...tus, 'upload-length': String(2 * 1024 * 1024), 'upload-metadata': `fullPath ${Buffer.from('Documents/big.bin').toString('base64')}` },
    });
    expect([tooLarge.status, await tooLarge.text()]).toEqual([403, expect.stringMatching(/upload\.maxBytes 1048576/)]);

    const text = Buffer.from('resumable words\n');
    const ok = await fetch(`${filer.url}/filer/uploads`, {
      method: 'POST',
      headers: { ...tus, 'upload-length': String(text.length), 'upload-metadata': `filename ${Buffer.from('resumed.txt').toString('base64')}` },
    });
    const done = await fetch(new URL(ok.headers.get('location') ?? '', filer.url), {
      method: 'PATCH',
      headers: { ...tus, 'upload-offset': '0', 'content-type': 'application/offset+octet-stream' },
      body: text,
    });
    expect(done.status).toBe(204);
    expect(existsSync(join(home, 'Desktop', 'resumed.txt'))).toBe(true);
    await waitFor(
      'the tus upload audited',
      async () => audits(service.frames).find((a) => a['subject'] === 'Desktop/resumed.txt' && a['type'] === 'text/plain'),
      5000,
    );
  });

  it('counts transfers by direction and result, and never sends the audit to a browser', async () => {
    const metrics = await (await fetch(`${filer.url}/metrics`, { headers: auth })).text();
    expect(Number(/transfer_total\{direction="upload",result="refused"\} (\d+)/.exec(metrics)?.[1])).toBeGreaterThanOrEqual(4);
    expect(Number(/transfer_total\{direction="download",result="allowed"\} (\d+)/.exec(metrics)?.[1])).toBeGreaterThanOrEqual(2);
    expect(audits(browser.frames)).toEqual([]);
    // nor may a browser forge one
    browser.socket.send(JSON.stringify({ method: 'transfer.audit', data: { forged: true } }));
    await waitFor('the refusal', async () => browser.frames.find((f) => f.method === 'error' || JSON.stringify(f).includes('transfer.audit')), 5000);
    expect(audits(service.frames).some((a) => a['forged'] === true)).toBe(false);
  });

  it('stops at start on a bad TRANSFER_POLICY, naming the key', async () => {
    await expect(startAgent('filer', { env: { ...agentEnv({ upload: { maxBytes: 'lots' } }), HOME: home } })).rejects.toThrow(
      /TRANSFER_POLICY\/upload\/maxBytes/,
    );
    await expect(startAgent('filer', { env: { ...agentEnv({ uploads: {} }), HOME: home } })).rejects.toThrow(/TRANSFER_POLICY\/uploads: is not a known key/);
  });
});

describe('printed PDFs under the print rules', () => {
  it('announces an allowed PDF and removes, never announces, one over print.maxBytes; both audited', async () => {
    const spool = join(run.dir, 'spool');
    await mkdir(spool, { recursive: true });
    const printerfile = await startAgent('printerfile', {
      env: { ...agentEnv({ print: { allow: ['application/pdf'], maxBytes: 2000 } }), HOME: spool, WATCHDIR: spool, PRINTERFILE_SETTLE_MS: '100' },
      awaitReady: false,
    });
    try {
      const pdf = (size: number) => Buffer.concat([Buffer.from('%PDF-1.4\n'), Buffer.alloc(size, 0x20), Buffer.from('\n%%EOF\n')]);
      const seen = browser.frames.length;
      await writeFile(join(spool, 'small-job_1.pdf'), pdf(100));
      await waitFor('printer.new for the small PDF', async () => browser.frames.slice(seen).find((f) => f.method === 'printer.new'), 10_000);
      await writeFile(join(spool, 'large-job_2.pdf'), pdf(5000));
      await waitFor('the large PDF removed', async () => !existsSync(join(spool, 'large-job_2.pdf')), 10_000);
      expect(
        browser.frames
          .slice(seen)
          .filter((f) => f.method === 'printer.new')
          .map((f) => f.data?.['path']),
      ).toEqual(['small-job_1.pdf']);
      const events = audits(service.frames).filter((a) => a['direction'] === 'print');
      expect(events).toEqual([
        expect.objectContaining({ subject: 'small-job_1.pdf', result: 'allowed', type: 'application/pdf' }),
        expect.objectContaining({ subject: 'large-job_2.pdf', result: 'refused', rule: 'print.maxBytes 2000 (5016 bytes or more)' }),
      ]);
    } finally {
      await printerfile.stop();
    }
  });
});

describe('the clipboard under clipboardIn / clipboardOut', () => {
  let x: XServer;
  let spawner: RunningAgent;
  const home = () => join(run.dir, 'spawner-home');

  beforeAll(async () => {
    x = await startXvfb();
    await mkdir(home(), { recursive: true });
    spawner = await startAgent('spawner', {
      env: {
        ...agentEnv({ clipboardIn: { deny: ['image/*'] }, clipboardOut: { maxBytes: 20 } }),
        DISPLAY: x.display,
        HOME: home(),
        SPAWNER_PID_FILE: join(home(), 'spawner.pid'),
        SPAWNER_DEFAULT_IMAGE: join(home(), 'no-default.png'),
        SPAWNER_IDLE_MS: '0',
      },
    });
    await waitFor('clipboard ready', async () => spawner.logLines().some((l) => l['msg'] === 'X display connected'), 5000);
  });
  afterAll(async () => {
    await spawner?.stop();
    await x?.stop();
  });

  it('refuses a browser paste of an image by its sniffed type, to that browser alone, audited', async () => {
    const png = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex');
    const seen = browser.frames.length;
    browser.socket.send(JSON.stringify({ method: 'clipboard.set', data: { mime: 'image/png', base64: png.toString('base64') } }));
    const error = await waitFor('the error frame', async () => browser.frames.slice(seen).find((f) => f.method === 'error'), 5000);
    expect(error.data).toMatchObject({
      code: 'CLIPBOARD_REFUSED',
      message: 'clipboard from the browser: clipboard (image/png) refused: clipboardIn.deny image/* (the content is image/png)',
    });
    await waitFor('the audit event', async () => audits(service.frames).find((a) => a['direction'] === 'clipboardIn' && a['result'] === 'refused'), 5000);
  });

  it('sends the desktop a short text, but no copy over clipboardOut.maxBytes to the browsers', async () => {
    const seen = browser.frames.length;
    browser.socket.send(JSON.stringify({ method: 'clipboard.set', data: { mime: 'text/plain', text: 'short' } }));
    await waitFor(
      'the paste owned in X',
      async () => {
        try {
          return (
            execFileSync('xclip', ['-o', '-selection', 'clipboard'], { env: { ...process.env, DISPLAY: x.display }, timeout: 3000 }).toString() === 'short'
          );
        } catch {
          return false;
        }
      },
      5000,
    );
    const long = 'a copy longer than twenty bytes';
    // an X client owning PRIMARY (in the foreground until killed), read by clipboardsync (after its answer)
    const owner = spawn('xclip', ['-quiet', '-i', '-selection', 'primary'], {
      env: { ...process.env, DISPLAY: x.display },
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    owner.stdin.end(long);
    try {
      await new Promise((resolve) => setTimeout(resolve, 300));
      const synced = await fetch(`${spawner.url}/spawner/clipboardsync`, { method: 'POST', headers: auth });
      expect(synced.status, await synced.clone().text()).toBe(200);
      await waitFor(
        'the refusal audited',
        async () => audits(service.frames).find((a) => a['direction'] === 'clipboardOut' && a['result'] === 'refused'),
        5000,
      );
    } finally {
      owner.kill();
    }
    expect(browser.frames.slice(seen).filter((f) => f.method === 'clipboard.changed')).toEqual([]);
    expect(audits(service.frames).find((a) => a['direction'] === 'clipboardIn' && a['result'] === 'allowed')).toMatchObject({ type: 'text/plain', bytes: 5 });
  });
});
