import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PNG } from 'pngjs';
import x11 from 'x11';
import type { XDisplay } from 'x11';
import { startAgent, startPulse, startXvfb, waitFor, type PulseServer, type RunningAgent, type XServer } from '@desktop-agents/tools/harness';

const TOKEN = 'spawner-extras-token-1';
const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
const home = mkdtempSync(join(tmpdir(), 'spawner-extras-'));
const RTP = '127.0.0.1:46000';
let x: XServer;
let pulse: PulseServer;
let spawner: RunningAgent;

const call = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(`${spawner.url}/spawner/${path}`, { method, headers: auth, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // a bare string reply
  }
  return { status: res.status, body: parsed };
};

function png(width: number, height: number, rgb: [number, number, number]): Buffer {
  const image = new PNG({ width, height });
  for (let i = 0; i < width * height; i++) image.data.set([...rgb, 255], i * 4);
  return PNG.sync.write(image);
}

/** One pixel of the root window, read back from the X server. */
async function rootPixel(px: number, py: number): Promise<[number, number, number]> {
  const display = await new Promise<XDisplay>((resolve, reject) => x11.createClient({ display: x.display }, (err, d) => (err ? reject(err) : resolve(d))));
  const root = display.screen[0]?.root ?? 0;
  const image = await new Promise<{ data: Buffer }>((resolve, reject) =>
    display.client.GetImage(2, root, px, py, 1, 1, 0xffffffff, (err, img) => (err ? reject(err) : resolve(img))),
  );
  display.client.terminate();
  return [image.data[2] ?? -1, image.data[1] ?? -1, image.data[0] ?? -1];
}

beforeAll(async () => {
  x = await startXvfb({ windowManager: true });
  pulse = await startPulse();
  spawner = await startAgent('spawner', {
    env: {
      AUTH_TOKEN: TOKEN,
      DISPLAY: x.display,
      HOME: home,
      SPAWNER_PID_FILE: join(home, 'pid'),
      PULSE_SERVER: pulse.server,
      SPAWNER_RTP_DESTINATION: RTP,
      SPAWNER_DEFAULT_IMAGE: join(home, 'no-default.png'),
      BROADCAST_SERVICE_URL: 'ws://127.0.0.1:9/',
    },
  });
});
afterAll(async () => {
  await spawner?.stop();
  await pulse?.stop();
  await x?.stop();
  rmSync(home, { recursive: true, force: true });
});

describe('background images', () => {
  it('paints ~/.wallpapers/NAME on the root window and answers its dominant color', async () => {
    mkdirSync(join(home, '.wallpapers'), { recursive: true });
    writeFileSync(join(home, '.wallpapers', 'red.png'), png(64, 48, [255, 0, 0]));
    expect(await call('POST', 'setBackgroundImage', { imgName: 'red.png' })).toEqual({
      status: 200,
      body: { code: 200, data: { color: '#ff0000', subData: 'ok' } },
    });
    expect(await rootPixel(100, 100)).toEqual([255, 0, 0]);
    expect(readFileSync(join(home, '.store', 'currentImgColor'), 'utf8')).toBe('#ff0000');
  });

  it('refuses names that are paths, missing images and a missing default', async () => {
    expect(await call('POST', 'setBackgroundImage', { imgName: '../../etc/passwd' })).toEqual({
      status: 404,
      body: { code: 404, data: 'Unknow image ../../etc/passwd' },
    });
    expect(await call('POST', 'setBackgroundImage', { imgName: 'nope.png' })).toEqual({ status: 404, body: { code: 404, data: 'Unknow image nope.png' } });
    expect(await call('POST', 'setBackgroundImage', {})).toEqual({
      status: 422,
      body: { errors: [{ location: 'body', param: 'imgName', msg: 'No imgName provided' }] },
    });
    // setDefaultImage applies the last image set again (kept as ~/.config/current_wallpaper), else the default
    expect(await call('POST', 'setDefaultImage', {})).toEqual({ status: 200, body: { code: 200, data: { color: '#ff0000', subData: 'ok' } } });
    rmSync(join(home, '.config', 'current_wallpaper'));
    expect(await call('POST', 'setDefaultImage', {})).toEqual({ status: 404, body: { code: 404, data: 'file not found' } });
    writeFileSync(join(home, 'no-default.png'), png(8, 8, [0, 0, 255]));
    expect((await call('POST', 'setDefaultImage', {})).body).toEqual({ code: 200, data: { color: '#0000ff', subData: 'ok' } });
    expect(await rootPixel(5, 5)).toEqual([0, 0, 255]);
  });
});

describe('clipboard', () => {
  it('copies PRIMARY to CLIPBOARD and SECONDARY', async () => {
    const env = { ...process.env, DISPLAY: x.display };
    const owner = spawn('xclip', ['-i', '-selection', 'primary'], { env, stdio: ['pipe', 'ignore', 'ignore'] });
    owner.stdin.end('copied text ✓');
    await waitFor('primary set', async () => execFileSync('xclip', ['-o', '-selection', 'primary'], { env, encoding: 'utf8' }) === 'copied text ✓', 3000);
    expect(await call('POST', 'clipboardsync', {})).toEqual({ status: 200, body: { code: 200, data: 'ok' } });
    await waitFor(
      'clipboard set',
      async () => execFileSync('xclip', ['-o', '-selection', 'clipboard'], { env, encoding: 'utf8', timeout: 1000 }) === 'copied text ✓',
      5000,
    );
    expect(execFileSync('xclip', ['-o', '-selection', 'secondary'], { env, encoding: 'utf8', timeout: 1000 })).toBe('copied text ✓');
    owner.kill();
  });
});

describe('files and applications', () => {
  it('searches file names in home for plain keywords, bounded by maxfile', async () => {
    mkdirSync(join(home, 'docs/deep'), { recursive: true });
    for (const name of ['Report-2026.pdf', 'docs/report.txt', 'docs/deep/old report.odt', 'notes.txt']) writeFileSync(join(home, name), 'x');
    const all = (await call('GET', 'filesearch?keywords=report')).body as { data: Array<{ file: string; mime: string }> };
    expect(all.data.map((f) => f.file).sort()).toEqual(
      [join(home, 'Report-2026.pdf'), join(home, 'docs/deep/old report.odt'), join(home, 'docs/report.txt')].sort(),
    );
    expect(all.data.find((f) => f.file.endsWith('.pdf'))?.mime).toBe('application/pdf');
    expect(((await call('GET', 'filesearch?keywords=report&maxfile=1')).body as { data: unknown[] }).data).toHaveLength(1);
    // a regex special character is plain text, not a 500
    expect((await call('GET', 'filesearch?keywords=(')).status).toBe(200);
    expect((await call('GET', 'filesearch?keywords=a%2Fb')).body).toEqual({
      errors: [{ location: 'query', param: 'keywords', value: 'a/b', msg: 'Bad keywords pattern' }],
    });
    expect((await call('GET', 'filesearch?keywords=x&maxfile=0')).body).toEqual({
      errors: [{ location: 'query', param: 'maxfile', value: '0', msg: 'Maxfile must be a strictly positive number' }],
    });
    expect((await call('GET', 'filesearch')).body).toEqual({ errors: [{ location: 'query', param: 'keywords', msg: 'No keywords provided' }] });
  });

  it('generates desktop files, then finds the app for a file type', async () => {
    const icon = png(4, 4, [0, 255, 0]).toString('base64');
    expect(
      await call('POST', 'generateDesktopFiles', { list: [{ name: 'Editor', launch: 'editor', mimetype: 'text/plain;', icon: 'editor.png', icondata: icon }] }),
    ).toEqual({ status: 200, body: { code: 200, data: 'OK' } });
    const desktop = readFileSync(join(home, '.local/share/applications/editor.desktop'), 'utf8');
    expect(desktop).toContain('Name=Editor');
    expect(desktop).toContain('MimeType=text/plain;');
    expect(existsSync(join(home, '.local/share/icons/editor.png'))).toBe(true);
    expect(await call('GET', 'getappforfile?filename=notes.txt')).toEqual({
      status: 200,
      body: { code: 200, data: { command: 'editor', args: ['notes.txt'] } },
    });
    expect((await call('GET', 'getappforfile?filename=movie.mkv')).status).toBe(404);
    expect((await call('GET', 'getmimeforfile?filename=a.pdf')).body).toBe('application/pdf');
  });

  it('refuses desktop entries that would write outside their folders or inject lines', async () => {
    expect((await call('POST', 'generateDesktopFiles', { list: [] })).body).toEqual({
      errors: [{ location: 'body', param: 'list', value: [], msg: 'List must be a non-empty array' }],
    });
    expect((await call('POST', 'generateDesktopFiles', {})).body).toEqual({
      errors: [
        { location: 'body', param: 'list', msg: 'No list provided' },
        { location: 'body', param: 'list', msg: 'List must be a non-empty array' },
      ],
    });
    expect((await call('POST', 'generateDesktopFiles', { list: [{ name: 'x', launch: '../../.bashrc' }] })).status).toBe(422);
    expect((await call('POST', 'generateDesktopFiles', { list: [{ name: 'x\nExec=rm -rf ~', launch: 'x' }] })).status).toBe(422);
    expect((await call('POST', 'generateDesktopFiles', { list: [{ name: 'x', launch: 'x', icon: '../.ssh/authorized_keys', icondata: 'AAAA' }] })).status).toBe(
      422,
    );
    expect(existsSync(join(home, '.ssh'))).toBe(false);
  });
});

describe('PulseAudio routes (pactl as argv)', () => {
  it('reports pulse, sets the default sink, and lists audio in getSettings', async () => {
    expect(await call('GET', 'isPulseAvailable')).toEqual({ status: 200, body: { status: 200, message: 'OK' } });
    expect(((await call('GET', 'getSettings')).body as { data: string[] }).data).toContain('audio');
    await pulse.pactl('load-module', 'module-null-sink', 'sink_name=other');
    expect(await call('POST', 'setAudioQuality', { sink: 'other' })).toEqual({
      status: 200,
      body: { code: 200, data: { command: 'pactl', args: ['set-default-sink', 'other'] } },
    });
    expect(await pulse.pactl('info')).toMatch(/Default Sink: other/);
    expect((await call('POST', 'setAudioQuality', { sink: 'nope' })).status).toBe(404);
    expect(((await call('GET', 'getPulseInfo')).body as { data: { defaultSink: string } }).data.defaultSink).toBe('other');
  });

  it('sends RTP only to the configured destination, once however often it is asked', async () => {
    expect((await call('PUT', 'configurePulse', { destinationIp: '10.9.9.9', port: 5000 })).status).toBe(403);
    expect((await call('PUT', 'configurePulse', { destinationIp: 'not-an-ip', port: 5000 })).body).toEqual({
      errors: [{ location: 'body', param: 'destinationIp', value: 'not-an-ip', msg: 'destinationIp must be an ipV4 address' }],
    });
    for (let i = 0; i < 2; i++) {
      const configured = await call('PUT', 'configurePulse', { destinationIp: '127.0.0.1', port: 46000 });
      expect(
        configured,
        JSON.stringify(
          spawner
            .logLines()
            .filter((l) => l['level'] === 50)
            .map((l) => l['err']),
        ),
      ).toEqual({ status: 200, body: { code: 200, data: { pulseAudioIsConfigured: true, pulseAudioIsAvailable: true } } });
    }
    const modules = await pulse.pactl('list', 'short', 'modules');
    expect(modules.split('\n').filter((l) => l.includes('module-rtp-send'))).toHaveLength(1);
    // the default sink stays what it was (setAudioQuality's, above): the sender records its monitor, no sink of its own
    expect(await pulse.pactl('info')).toMatch(/Default Sink: other/);
    expect(await pulse.pactl('list', 'modules')).toMatch(/Argument: source='other\.monitor' destination_ip='127\.0\.0\.1' port=46000/);
  });

  it('says when pulse is gone', async () => {
    await pulse.kill();
    expect(await call('GET', 'isPulseAvailable')).toEqual({ status: 200, body: { status: 500, message: 'error' } });
    expect((await call('GET', 'getPulseInfo')).status).toBe(503);
    await pulse.restart();
  });
});
