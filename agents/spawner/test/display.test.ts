import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PNG } from 'pngjs';
import x11 from 'x11';
import type { XDisplay } from 'x11';
import { startAgent, startXvfb, waitFor, type RunningAgent, type XServer } from '@desktop-agents/tools/harness';
import { BusTab, spawnerEnv } from './session.js';

// The desktop's size and monitors over RANDR, on Xvfb (whose screen can shrink below its start size and grow back to
// it, not past it) and on Xvnc (TigerVNC, what desktop images run: any size, new modes): the routes, display.changed
// for our changes and another client's, display.fit from a page, a maximised window following, and screenshots.
const TOKEN = 'spawner-display-token-1';
const COOKIE = 'spawner-display-cookie';
const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };

interface Layout {
  width: number;
  height: number;
  monitors: Array<{ name: string; x: number; y: number; width: number; height: number; primary: boolean }>;
}

interface Session {
  x: XServer;
  bus: RunningAgent;
  spawner: RunningAgent;
  browser: BusTab;
  home: string;
  stop(): Promise<void>;
}

async function startSession(server: 'xvfb' | 'xvnc', screen: string, extra: Record<string, string> = {}): Promise<Session> {
  const home = mkdtempSync(join(tmpdir(), 'spawner-display-'));
  const x = await startXvfb({ windowManager: true, server, screen });
  const bus = await startAgent('broadcast', { env: { AUTH_TOKEN: TOKEN, BROADCAST_COOKIE: COOKIE } });
  const spawner = await startAgent('spawner', { env: spawnerEnv({ token: TOKEN, cookie: COOKIE, bus, display: x.display, home }, extra) });
  await waitFor('spawner on the bus', async () => (await spawner.get('/readyz')).status === 200, 10_000);
  const browser = await BusTab.open(bus, { token: TOKEN });
  return {
    x,
    bus,
    spawner,
    browser,
    home,
    async stop() {
      browser.close();
      await spawner.stop();
      await bus.stop();
      await x.stop();
      rmSync(home, { recursive: true, force: true });
    },
  };
}

async function call(session: Session, method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${session.spawner.url}/spawner/${path}`, { method, headers: auth, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  return { status: res.status, body: await res.json() };
}

const layoutOf = async (session: Session) => ((await call(session, 'GET', 'display')).body as { data: Layout }).data;
const changes = (session: Session) => session.browser.of<Layout>('display.changed');
const oneMonitor = (width: number, height: number, name: string) => ({ width, height, monitors: [{ name, x: 0, y: 0, width, height, primary: false }] });

/** The geometry X reports for a window (xwininfo), decorations excluded. */
function geometryOf(session: Session, id: string): { width: number; height: number } {
  const info = execFileSync('xwininfo', ['-id', id], { env: { ...process.env, DISPLAY: session.x.display }, encoding: 'utf8' });
  return { width: Number(/Width: (\d+)/.exec(info)?.[1]), height: Number(/Height: (\d+)/.exec(info)?.[1]) };
}

describe('display on Xvfb (RANDR, a screen that can shrink and grow back to its start size)', () => {
  let session: Session;
  const apps: ChildProcess[] = [];
  beforeAll(async () => {
    session = await startSession('xvfb', '1920x1200x24');
  }, 60_000);
  afterAll(async () => {
    for (const app of apps) app.kill();
    await session?.stop();
  });

  it('answers the screen and its monitor', async () => {
    expect(await call(session, 'GET', 'display')).toEqual({ status: 200, body: { code: 200, data: oneMonitor(1920, 1200, 'screen') } });
  });

  it('sets a size, keeps a maximised window maximised at the new size, and tells the bus', async () => {
    const env = { ...process.env, DISPLAY: session.x.display };
    apps.push(spawn('xmessage', ['-name', 'maximised', 'a maximised window'], { env, stdio: 'ignore' }));
    const id = await waitFor('the window', async () => {
      const found = execFileSync('xdotool', ['search', '--classname', 'maximised'], { env, encoding: 'utf8' }).trim().split('\n')[0];
      return found || undefined;
    });
    execFileSync('wmctrl', ['-i', '-r', id, '-b', 'add,maximized_vert,maximized_horz'], { env });
    await waitFor('maximised on 1920x1200', async () => geometryOf(session, id).width > 1800, 5000);

    const before = changes(session).length;
    expect(await call(session, 'POST', 'display', { width: 1280, height: 800 })).toEqual({
      status: 200,
      body: { code: 200, data: oneMonitor(1280, 800, 'screen') },
    });
    await waitFor('display.changed', async () => changes(session).length > before, 5000);
    expect(changes(session).at(-1)).toEqual(oneMonitor(1280, 800, 'screen'));
    // the window manager's work area follows the screen, and the maximised window with it
    await waitFor(
      'the window follows',
      async () => {
        const { width, height } = geometryOf(session, id);
        return width <= 1280 && width > 1200 && height <= 800 && height > 700;
      },
      5000,
    );

    // back to the start size: the server's own mode again
    expect((await call(session, 'POST', 'display', { width: 1920, height: 1200 })).status).toBe(200);
    await waitFor('the window follows back', async () => geometryOf(session, id).width > 1800, 5000);
  });

  it('tells the bus of another client changing the screen', async () => {
    expect((await call(session, 'POST', 'display', { width: 1024, height: 768 })).status).toBe(200);
    await waitFor('our change told', async () => changes(session).at(-1)?.width === 1024, 5000);
    // xrandr picks a mode the server has, on its own connection
    execFileSync('xrandr', ['--output', 'screen', '--mode', '1920x1200'], { env: { ...process.env, DISPLAY: session.x.display } });
    await waitFor('their change told', async () => changes(session).at(-1)?.width === 1920, 5000);
    expect(changes(session).at(-1)).toEqual(oneMonitor(1920, 1200, 'screen'));
    expect(await layoutOf(session)).toEqual(oneMonitor(1920, 1200, 'screen'));
  });

  it('lays out two monitors (RANDR 1.5), and one again after a size', async () => {
    const monitors = [
      { name: 'left', x: 0, y: 0, width: 960, height: 1200, primary: true },
      { name: 'right', x: 960, y: 0, width: 960, height: 1200, primary: false },
    ];
    expect(await call(session, 'POST', 'display', { monitors })).toEqual({ status: 200, body: { code: 200, data: { width: 1920, height: 1200, monitors } } });
    await waitFor('two monitors told', async () => changes(session).at(-1)?.monitors.length === 2, 5000);
    // the X server lists them to every client (xrandr is another one)
    const listed = execFileSync('xrandr', ['--listactivemonitors'], { env: { ...process.env, DISPLAY: session.x.display }, encoding: 'utf8' });
    expect(listed).toMatch(/Monitors: 2/);
    expect(listed).toMatch(/left 960\/\d+x1200\/\d+\+0\+0/);
    expect(listed).toMatch(/right 960\/\d+x1200\/\d+\+960\+0/);
    // none primary: the first is
    const unmarked = monitors.map((m) => ({ ...m, primary: false }));
    expect(((await call(session, 'POST', 'display', { monitors: unmarked })).body as { data: Layout }).data.monitors.map((m) => m.primary)).toEqual([
      true,
      false,
    ]);
    // a size puts the screen back on one monitor
    expect((await call(session, 'POST', 'display', { width: 1920, height: 1200 })).body).toEqual({ code: 200, data: oneMonitor(1920, 1200, 'screen') });
  });

  it('refuses sizes and layouts in the spec validation shape, and what the X server cannot do with 409', async () => {
    expect(await call(session, 'POST', 'display', {})).toEqual({
      status: 422,
      body: {
        errors: [
          { location: 'body', param: 'width', msg: 'No width provided' },
          { location: 'body', param: 'height', msg: 'No height provided' },
        ],
      },
    });
    expect(await call(session, 'POST', 'display', { width: '800', height: 0 })).toEqual({
      status: 422,
      body: {
        errors: [
          { location: 'body', param: 'width', value: '800', msg: 'Width must be a whole number of pixels from 1 to 32767' },
          { location: 'body', param: 'height', value: 0, msg: 'Height must be a whole number of pixels from 1 to 32767' },
        ],
      },
    });
    expect(await call(session, 'POST', 'display', { width: 8000, height: 600 })).toEqual({
      status: 422,
      body: { errors: [{ location: 'body', param: 'width', value: 8000, msg: 'Width must be at most 7680' }] },
    });
    const overlapping = [
      { name: 'a', x: 0, y: 0, width: 1000, height: 800 },
      { name: 'b', x: 999, y: 0, width: 900, height: 800 },
    ];
    expect(await call(session, 'POST', 'display', { monitors: overlapping })).toEqual({
      status: 422,
      body: { errors: [{ location: 'body', param: 'monitors', value: overlapping, msg: 'Monitors must not overlap' }] },
    });
    expect((await call(session, 'POST', 'display', { monitors: [{ name: 'a', x: 0, y: 0, width: 10 }] })).body).toEqual({
      errors: [
        {
          location: 'body',
          param: 'monitors',
          value: [{ name: 'a', x: 0, y: 0, width: 10 }],
          msg: 'Monitors must be a list of 1 to 16 { name, x, y, width, height, primary }',
        },
      ],
    });
    // Xvfb's screen cannot grow past its start size: the X server's reason, and nothing changed
    expect(await call(session, 'POST', 'display', { width: 2560, height: 1440 })).toEqual({
      status: 409,
      body: { code: 409, data: "The display cannot be changed: the X server's screen can be from 1x1 to 1920x1200" },
    });
    expect(await layoutOf(session)).toEqual(oneMonitor(1920, 1200, 'screen'));
  });

  it('resizes to the page with display.fit, the last size of a burst, and answers a bad one to its sender alone', async () => {
    const before = changes(session).length;
    for (const width of [1000, 1100, 1200, 1300]) session.browser.send('display.fit', { width, height: 700 });
    await waitFor('the fitted size', async () => changes(session).at(-1)?.width === 1300, 5000);
    // debounced: the intermediate sizes were never set
    expect(
      changes(session)
        .slice(before)
        .filter((l) => l.height === 700)
        .map((l) => l.width),
    ).toEqual([1300]);
    expect(await layoutOf(session)).toEqual(oneMonitor(1300, 700, 'screen'));

    const other = await BusTab.open(session.bus, { token: TOKEN });
    session.browser.send('display.fit', { width: 'wide', height: 700 });
    session.browser.send('display.fit', { width: 9000, height: 700 });
    await waitFor('two refusals', async () => session.browser.of('error').length >= 2, 5000);
    expect(session.browser.of<{ code: string; method: string; message: string }>('error').slice(-2)).toEqual([
      { code: 'DISPLAY_FIT_REFUSED', method: 'display.fit', message: 'display.fit needs { width, height } in whole pixels' },
      { code: 'DISPLAY_FIT_REFUSED', method: 'display.fit', message: 'Width must be at most 7680' },
    ]);
    expect(other.of('error')).toEqual([]);
    other.close();
  });
});

describe('display on Xvnc (any size, modes added)', () => {
  let session: Session;
  beforeAll(async () => {
    session = await startSession('xvnc', '1280x800x24', { SPAWNER_DISPLAY_MAX: '4096x2160' });
  }, 60_000);
  afterAll(async () => {
    await session?.stop();
  });

  it('grows the screen past its start size with a mode the server did not have', async () => {
    expect(await call(session, 'POST', 'display', { width: 2345, height: 1234 })).toEqual({
      status: 200,
      body: { code: 200, data: oneMonitor(2345, 1234, 'VNC-0') },
    });
    await waitFor('display.changed', async () => changes(session).at(-1)?.width === 2345, 5000);
    expect(execFileSync('xdpyinfo', { env: { ...process.env, DISPLAY: session.x.display }, encoding: 'utf8' })).toMatch(/dimensions:\s+2345x1234 pixels/);
  });

  it('lays out two monitors side by side, the screen sized to hold them, within SPAWNER_DISPLAY_MAX', async () => {
    const monitors = [
      { name: 'DP-1', x: 0, y: 0, width: 1920, height: 1080, primary: false },
      { name: 'DP-2', x: 1920, y: 0, width: 1920, height: 1080, primary: true },
    ];
    expect(await call(session, 'POST', 'display', { monitors })).toEqual({ status: 200, body: { code: 200, data: { width: 3840, height: 1080, monitors } } });
    expect(await call(session, 'POST', 'display', { width: 4097, height: 1000 })).toEqual({
      status: 422,
      body: { errors: [{ location: 'body', param: 'width', value: 4097, msg: 'Width must be at most 4096' }] },
    });
    const tooWide = [...monitors, { name: 'DP-3', x: 3840, y: 0, width: 800, height: 600, primary: false }];
    expect((await call(session, 'POST', 'display', { monitors: tooWide })).body).toEqual({
      errors: [{ location: 'body', param: 'monitors', value: tooWide, msg: 'Monitors must fit in 4096x2160' }],
    });
  });
});

describe('screenshots', () => {
  let session: Session;
  let display: XDisplay;
  beforeAll(async () => {
    session = await startSession('xvfb', '800x600x24', { SPAWNER_SCREENSHOTS_PER_MINUTE: '6' });
    display = await new Promise<XDisplay>((resolve, reject) => x11.createClient({ display: session.x.display }, (err, d) => (err ? reject(err) : resolve(d))));
    // a red window at a known place, outside the window manager's reach (override-redirect)
    const screen = display.screen[0];
    const red = await new Promise<number>((resolve, reject) =>
      display.client.AllocColor(screen?.default_colormap ?? 0, 0xffff, 0, 0, (err, color) => (err ? reject(err) : resolve(color.pixel))),
    );
    const window = display.client.AllocID();
    display.client.CreateWindow(window, screen?.root ?? 0, 200, 100, 240, 160, 0, 0, 0, 0, { backgroundPixel: red, overrideRedirect: 1 });
    display.client.MapWindow(window);
    await new Promise((resolve) => display.client.GetInputFocus(resolve));
  }, 60_000);
  afterAll(async () => {
    display?.client.terminate();
    await session?.stop();
  });

  const shot = async (query: string, headers: Record<string, string> = auth) => fetch(`${session.spawner.url}/spawner/screenshot${query}`, { headers });
  const pixel = (image: PNG, x: number, y: number) => [...image.data.subarray((y * image.width + x) * 4, (y * image.width + x) * 4 + 3)];

  it('answers a PNG of what X holds, at full size and scaled, never cached', async () => {
    const full = await shot('?width=800');
    expect(full.status).toBe(200);
    expect(full.headers.get('content-type')).toBe('image/png');
    expect(full.headers.get('cache-control')).toBe('no-store');
    const image = PNG.sync.read(Buffer.from(await full.arrayBuffer()));
    expect([image.width, image.height]).toEqual([800, 600]);
    expect(pixel(image, 200, 100)).toEqual([255, 0, 0]);
    expect(pixel(image, 439, 259)).toEqual([255, 0, 0]);
    expect(pixel(image, 199, 100)).not.toEqual([255, 0, 0]);
    expect(pixel(image, 440, 259)).not.toEqual([255, 0, 0]);

    // the default width is a thumbnail: 320 wide, the screen's proportions, each pixel the mean of what it covers
    const thumb = PNG.sync.read(Buffer.from(await (await shot('')).arrayBuffer()));
    expect([thumb.width, thumb.height]).toEqual([320, 240]);
    expect(pixel(thumb, 120, 60)).toEqual([255, 0, 0]);
    expect(pixel(thumb, 40, 20)).not.toEqual([255, 0, 0]);
  });

  it('refuses widths out of range, requests without the token, and more than the rate per client', async () => {
    expect(await (await shot('?width=4000')).json()).toEqual({
      errors: [{ location: 'query', param: 'width', value: '4000', msg: 'Width must be a whole number from 16 to 1920' }],
    });
    expect((await shot('', {})).status).toBe(401);
    const statuses: number[] = [];
    for (let n = 0; n < 6; n++) statuses.push((await shot('?width=16')).status);
    expect(statuses).toContain(429);
    expect(await (await shot('?width=16')).json()).toEqual({ code: 429, data: 'Too many screenshots: at most 6 a minute from one client' });
  });
});
