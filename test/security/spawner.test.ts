// Attacks on the spawner on a real X display: a decompression-bomb wallpaper, arguments that would run a shell, the
// agents' secrets in launched programs' env, and a clipboard owner that outlives the spawner.
import { readFileSync, readdirSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeRunDir, processAlive, rssMiB, startAgent, startXvfb, waitFor, type RunningAgent, type XServer } from '@desktop-agents/tools/harness';
import { auth, tokenEnv } from './helpers.js';

let x: XServer;
let run: { dir: string; remove: () => Promise<void> };
let home: string;
let spawner: RunningAgent;

const post = async (route: string, body: unknown) => {
  const res = await fetch(`${spawner.url}/spawner/${route}`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as unknown };
};

/** A PNG whose header declares width × height, with a small (highly compressible) body. */
function pngDeclaring(width: number, height: number, bodyBytes: number, options: { interlaced?: boolean; depth?: number } = {}): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    return Buffer.concat([length, Buffer.from(type, 'latin1'), data, Buffer.alloc(4)]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = options.depth ?? 8;
  ihdr[9] = 6;
  ihdr[12] = options.interlaced ? 1 : 0;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.alloc(bodyBytes))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Pids of the processes whose command is `name` and whose env names this display. */
function processesOn(name: string, display: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() !== name) continue;
      if (readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0').includes(`DISPLAY=${display}`)) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

beforeAll(async () => {
  x = await startXvfb();
  run = await makeRunDir('security-spawner');
  home = join(run.dir, 'home');
  await mkdir(join(home, '.wallpapers'), { recursive: true });
  const dump = join(run.dir, 'dump-env');
  await writeFile(dump, `#!/bin/sh\nenv > "$HOME/env.txt"\n`);
  await chmod(dump, 0o755);
  spawner = await startAgent('spawner', {
    env: {
      ...tokenEnv,
      DISPLAY: x.display,
      HOME: home,
      SPAWNER_PID_FILE: join(run.dir, 'spawner.pid'),
      BROADCAST_SERVICE_URL: 'ws://127.0.0.1:9/',
      BROADCAST_COOKIE: 'cookie-secret-value',
      XAUTH_KEY: 'xauth-secret-value',
      PULSEAUDIO_COOKIE: 'pulse-secret-value',
      // admitted by getenv's allow-list by their prefix, and secrets by their names
      ABCDESKTOP_SERVICE_URL: 'https://desktop.example.com',
      ABCDESKTOP_SERVICE_TOKEN: 'service-token-value',
      ABCDESKTOP_SERVICE_PASSWORD: 'service-password-value',
      ABCDESKTOP_SERVICE_ApiKey: 'service-apikey-value',
      SPAWNER_ENV_ALLOW: 'LDAP_PASSWORD,LANG',
      LDAP_PASSWORD: 'ldap-password-value',
      SPAWNER_COMMANDS: JSON.stringify({ 'dump.Dump': dump, 'sh.Shell': '/bin/sh', 'echo.Echo': { program: '/bin/echo', args: 'text' } }),
    },
  });
});

afterAll(async () => {
  await spawner?.stop();
  await x?.stop();
  await run?.remove();
});

describe('wallpapers', () => {
  it('refuses a small PNG declaring 8000×8000 from its header, before decoding it', async () => {
    const bomb = pngDeclaring(8000, 8000, 4 * 1024 * 1024);
    expect(bomb.length).toBeLessThan(300 * 1024);
    await writeFile(join(home, '.wallpapers', 'bomb.png'), bomb);
    const before = rssMiB(spawner.process.pid);
    const res = await post('setBackgroundImage', { imgName: 'bomb.png' });
    expect(res.status).toBe(415);
    expect(res.body).toEqual({ code: 415, data: expect.stringContaining('8000x8000') });
    expect(rssMiB(spawner.process.pid) - before).toBeLessThan(64);
    expect(processAlive(spawner.process.pid)).toBe(true);
  });

  it('refuses a small interlaced PNG whose stream inflates to far more than its header declares, while inflating', async () => {
    // 64×64 declared, 400 MiB of zeros behind it (the decoder inflates an interlaced image whole, unbounded)
    const bomb = pngDeclaring(64, 64, 400 * 1024 * 1024, { interlaced: true });
    expect(bomb.length).toBeLessThan(1024 * 1024);
    await writeFile(join(home, '.wallpapers', 'inflating.png'), bomb);
    const before = rssMiB(spawner.process.pid);
    const res = await post('setBackgroundImage', { imgName: 'inflating.png' });
    expect(res).toEqual({ status: 415, body: { code: 415, data: 'Unsupported image: image data inflates past what its header declares' } });
    expect(rssMiB(spawner.process.pid) - before).toBeLessThan(64);
    expect(processAlive(spawner.process.pid)).toBe(true);
  });

  it('refuses a PNG whose declared pixels, at their depth, would take more than the decoding budget', async () => {
    // 4096×4096 is within the pixel bound, but 16-bit RGBA takes 128 MiB inflated
    await writeFile(join(home, '.wallpapers', 'deep.png'), pngDeclaring(4096, 4096, 1024, { depth: 16 }));
    const res = await post('setBackgroundImage', { imgName: 'deep.png' });
    expect(res.status).toBe(415);
    expect(res.body).toEqual({ code: 415, data: expect.stringMatching(/^Unsupported image: image pixels take \d+ bytes, over \d+$/) });
  });

  it('refuses a FIFO named like a wallpaper without blocking', async () => {
    const { execFileSync } = await import('node:child_process');
    execFileSync('mkfifo', [join(home, '.wallpapers', 'pipe.png')]);
    const res = await fetch(`${spawner.url}/spawner/setBackgroundImage`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ imgName: 'pipe.png' }),
      signal: AbortSignal.timeout(3000),
    });
    expect(res.status).toBe(415);
  });
});

describe('launch', () => {
  it('passes no arguments to a command whose policy allows none: `sh -c ...` does not run', async () => {
    const res = await post('launch', { command: 'sh.Shell', args: ['-c', `touch ${join(home, 'pwned')}`] });
    expect(res).toEqual({ status: 403, body: { code: 403, data: 'This command takes no arguments' } });
    const option = await post('launch', { command: 'echo.Echo', args: ['-e', 'x'] });
    expect(option.status).toBe(403);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await expect(readFile(join(home, 'pwned'))).rejects.toThrow();
  });

  it('refuses program escapes in `text` arguments: options, +commands, @response files', async () => {
    for (const arg of ['-e', '+!touch pwned', '@/etc/passwd', '--help']) {
      const res = await post('launch', { command: 'echo.Echo', args: ['hello', arg] });
      expect(res, arg).toEqual({
        status: 403,
        body: { code: 403, data: `Argument ${JSON.stringify(arg)} starts with ${JSON.stringify(arg[0])}: not allowed` },
      });
    }
    expect((await post('launch', { command: 'echo.Echo', args: ['hello', 'a+b', 'x@y'] })).status).toBe(200);
  });

  it('getenv applies the secret rule after its allow-list', async () => {
    const res = await fetch(`${spawner.url}/spawner/getenv`, { headers: auth });
    const { env } = (await res.json()) as { env: Record<string, string> };
    expect(env['ABCDESKTOP_SERVICE_URL']).toBe('https://desktop.example.com');
    const shown = JSON.stringify(env);
    for (const secret of ['service-token-value', 'service-password-value', 'service-apikey-value', 'ldap-password-value']) expect(shown).not.toContain(secret);
  });

  it("keeps the agents' secrets out of a launched program's environment", async () => {
    expect((await post('launch', { command: 'dump.Dump' })).status).toBe(200);
    const env = await waitFor('env dump', async () => readFile(join(home, 'env.txt'), 'utf8').catch(() => undefined));
    for (const secret of ['security-suite-token', 'cookie-secret-value', 'xauth-secret-value', 'pulse-secret-value']) expect(env).not.toContain(secret);
    expect(env).toContain(`DISPLAY=${x.display}`);
  });
});

describe('clipboard', () => {
  it('owns the clipboard itself (no helper process) and leaves no owner behind after shutdown', async () => {
    const { execFileSync } = await import('node:child_process');
    const env = { ...process.env, DISPLAY: x.display };
    execFileSync('sh', ['-c', 'printf primary-text | xclip -i -selection primary'], { env, stdio: ['ignore', 'ignore', 'ignore'], timeout: 5000 });
    const before = processesOn('xclip', x.display).length;
    expect((await post('clipboardsync', {})).status).toBe(200);
    await waitFor(
      'CLIPBOARD owned by the spawner',
      async () => execFileSync('xclip', ['-o', '-selection', 'clipboard'], { env, timeout: 2000 }).toString() === 'primary-text',
      5000,
    );
    // over the X protocol: no xclip (or other helper) was started for it
    expect(processesOn('xclip', x.display).length).toBe(before);
    const exit = await spawner.stop();
    expect(exit.code).toBe(0);
    // the X server drops a client's selections with its connection: nothing answers for CLIPBOARD now
    expect(() => execFileSync('xclip', ['-o', '-selection', 'clipboard'], { env, timeout: 2000, stdio: ['ignore', 'pipe', 'ignore'] })).toThrow();
    for (const pid of processesOn('xclip', x.display)) process.kill(pid);
  });
});
