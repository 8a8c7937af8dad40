import { createRequire } from 'node:module';
import type { BusWindow, Logger } from '@desktop-agents/kit';
import type * as X11 from 'x11';
import type { ScreenSaverExtension, XDisplay, XProperty } from 'x11';

// Loaded by Node from node_modules, not bundled (build/bundle.mjs); required, not imported: an ES import of a CommonJS
// package first scans it for named exports
const x11 = createRequire(import.meta.url)('x11') as typeof X11;

/** A top-level window as abcdesktop's web UI knows it. */
/** A window as the bus and getwindowslist carry it (wm_class is "instance.Class", from WM_CLASS). */
export type WindowInfo = BusWindow;

const ATOMS = [
  '_NET_CLIENT_LIST',
  '_NET_ACTIVE_WINDOW',
  '_NET_CLOSE_WINDOW',
  '_NET_WM_NAME',
  '_NET_WM_PID',
  'UTF8_STRING',
  'WM_CLASS',
  'WM_NAME',
  'WM_CLIENT_MACHINE',
  'WINDOW',
  'CARDINAL',
  'STRING',
] as const;
type Atom = (typeof ATOMS)[number];

const ANY_PROPERTY_TYPE = 0;

/** One X request as a promise, bounded in time (a server that never answers is an error, not a hang). */
export function call<T>(fn: (cb: (err: Error | null, result: T) => void) => void, timeoutMs = 2000): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`X server did not answer within ${timeoutMs} ms`)), timeoutMs);
    fn((err, result) => {
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(result);
    });
  });
}

/**
 * One open connection to the X display (a connection per call costs 20-50 ms; wmctrl pays it every time) and the
 * EWMH conversations the spawner needs: list, activate, close and tile windows, set the root background, and a
 * callback whenever the window manager changes _NET_CLIENT_LIST.
 */
export class Desktop {
  #closed = false;
  #listeners = new Set<() => void>();
  #backgroundPixmap: number | undefined;
  #screenSaver: Promise<ScreenSaverExtension> | undefined;
  readonly #disconnectListeners = new Set<() => void>();

  private constructor(
    private readonly display: XDisplay,
    private readonly atoms: Record<Atom, number>,
    private readonly log: Logger,
  ) {
    const { client } = display;
    client.ChangeWindowAttributes(this.root, { eventMask: x11.eventMask['PropertyChange'] ?? 0x400000 });
    client.on('event', (event: { name: string; atom?: number }) => {
      if (event.name === 'PropertyNotify' && event.atom === this.atoms._NET_CLIENT_LIST) for (const l of this.#listeners) l();
    });
    client.on('error', (err: Error) => this.log.debug({ err: { message: err.message } }, 'X error'));
    client.on('end', () => {
      this.#closed = true;
      this.log.warn('X connection closed');
      for (const l of this.#disconnectListeners) l();
    });
  }

  static async connect(displayName: string, log: Logger): Promise<Desktop> {
    const display = await call<XDisplay>((cb) => {
      const emitter = x11.createClient({ display: displayName }, cb);
      emitter.on('error', (err: Error) => cb(err, undefined as unknown as XDisplay));
    }, 5000);
    const atoms = {} as Record<Atom, number>;
    for (const name of ATOMS) atoms[name] = await call<number>((cb) => display.client.InternAtom(false, name, cb));
    return new Desktop(display, atoms, log);
  }

  /** The open connection, for the modules that hold conversations of their own on it (the selections). */
  get x(): { client: XDisplay['client']; root: number } {
    return { client: this.display.client, root: this.root };
  }

  get connected(): boolean {
    return !this.#closed;
  }

  get root(): number {
    return this.display.screen[0]?.root ?? 0;
  }

  get size(): { width: number; height: number } {
    const s = this.display.screen[0];
    return { width: s?.pixel_width ?? 1024, height: s?.pixel_height ?? 768 };
  }

  onDisconnect(listener: () => void): void {
    this.#disconnectListeners.add(listener);
  }

  onClientListChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Milliseconds since the last keyboard or pointer input the X server saw (VNC's included): MIT-SCREEN-SAVER. */
  async idleMs(): Promise<number> {
    this.#screenSaver ??= call<ScreenSaverExtension>((cb) => this.display.client.require('screen-saver', cb));
    const screenSaver = await this.#screenSaver.catch((err: Error) => {
      this.#screenSaver = undefined;
      throw new Error(`the X server has no MIT-SCREEN-SAVER extension: ${err.message}`);
    });
    return (await call<{ idle: number }>((cb) => screenSaver.QueryInfo(this.root, cb))).idle;
  }

  /** A round trip to the server: fails when the display is gone. */
  async ping(): Promise<void> {
    if (this.#closed) throw new Error('X display connection is closed');
    await call((cb) => this.display.client.GetInputFocus(cb), 1500);
  }

  async #property(wid: number, name: Atom, type = ANY_PROPERTY_TYPE): Promise<{ type: number; format: number; data: Buffer } | undefined> {
    try {
      const prop = await call<XProperty>((cb) => this.display.client.GetProperty(0, wid, this.atoms[name], type, 0, 1 << 16, cb));
      return prop.type === 0 ? undefined : prop;
    } catch {
      return undefined; // the window went away meanwhile
    }
  }

  async #text(wid: number, name: Atom): Promise<string> {
    return (await this.#property(wid, name))?.data.toString('utf8') ?? '';
  }

  async clientList(): Promise<number[]> {
    const prop = await this.#property(this.root, '_NET_CLIENT_LIST');
    if (!prop) return [];
    const ids: number[] = [];
    for (let i = 0; i + 4 <= prop.data.length; i += 4) ids.push(prop.data.readUInt32LE(i));
    return ids;
  }

  async window(id: number): Promise<WindowInfo> {
    const [netName, name, cls, machine, pid] = await Promise.all([
      this.#text(id, '_NET_WM_NAME'),
      this.#text(id, 'WM_NAME'),
      this.#property(id, 'WM_CLASS'),
      this.#text(id, 'WM_CLIENT_MACHINE'),
      this.#property(id, '_NET_WM_PID'),
    ]);
    const [instance = '', klass = ''] = (cls?.data.toString('latin1') ?? '').split('\0');
    return {
      id,
      pid: pid && pid.data.length >= 4 ? pid.data.readUInt32LE(0) : null,
      wm_class: instance || klass ? `${instance}.${klass}` : '',
      title: netName || name,
      machine_name: machine,
    };
  }

  async windows(): Promise<WindowInfo[]> {
    return Promise.all((await this.clientList()).map((id) => this.window(id)));
  }

  async activeWindow(): Promise<number> {
    const prop = await this.#property(this.root, '_NET_ACTIVE_WINDOW');
    return prop && prop.data.length >= 4 ? prop.data.readUInt32LE(0) : 0;
  }

  /** EWMH _NET_ACTIVE_WINDOW request to the window manager (source 2: a pager, so it is honoured). */
  activate(id: number): void {
    this.display.client.SendClientMessage(this.root, id, this.atoms._NET_ACTIVE_WINDOW, 32, [2, 0, 0, 0, 0]);
  }

  /** EWMH _NET_CLOSE_WINDOW: the window manager asks the client to close (WM_DELETE_WINDOW). */
  close(id: number): void {
    this.display.client.SendClientMessage(this.root, id, this.atoms._NET_CLOSE_WINDOW, 32, [0, 2, 0, 0, 0]);
  }

  /** Tiles the windows in a grid over the screen. */
  tile(ids: number[]): void {
    if (ids.length === 0) return;
    const { width, height } = this.size;
    const cols = Math.ceil(Math.sqrt(ids.length));
    const rows = Math.ceil(ids.length / cols);
    const w = Math.floor(width / cols);
    const h = Math.floor(height / rows);
    ids.forEach((id, i) =>
      this.display.client.ConfigureWindow(id, { x: (i % cols) * w, y: Math.floor(i / cols) * h, width: Math.max(1, w - 10), height: Math.max(1, h - 30) }),
    );
  }

  /** Paints the root window a solid color (what `xsetroot -solid` does, without a shell). */
  async setBackground(rgb: { r: number; g: number; b: number }): Promise<void> {
    const s = this.display.screen[0];
    if (!s) throw new Error('no screen');
    const color = await call<{ pixel: number }>((cb) => this.display.client.AllocColor(s.default_colormap, rgb.r * 257, rgb.g * 257, rgb.b * 257, cb));
    this.display.client.ChangeWindowAttributes(this.root, { backgroundPixel: color.pixel });
    this.display.client.ClearArea(this.root, 0, 0, 0, 0, 0);
    await this.ping();
  }

  /**
   * Makes a screen-sized pixmap of the image (BGRX rows, uploaded in strips that fit a request) the root window's
   * background, freeing the previous one.
   */
  async setBackgroundImage(bgrx: Buffer): Promise<void> {
    const s = this.display.screen[0];
    if (!s) throw new Error('no screen');
    const { client } = this.display;
    const { width, height } = this.size;
    const pixmap = client.AllocID();
    client.CreatePixmap(pixmap, this.root, s.root_depth, width, height);
    const gc = client.AllocID();
    client.CreateGC(gc, pixmap, {});
    const rowsPerStrip = Math.max(1, Math.floor(((0xffff - 6) * 4) / (width * 4)));
    for (let y = 0; y < height; y += rowsPerStrip) {
      const rows = Math.min(rowsPerStrip, height - y);
      client.PutImage(2, pixmap, gc, width, rows, 0, y, 0, s.root_depth, bgrx.subarray(y * width * 4, (y + rows) * width * 4));
    }
    client.FreeGC(gc);
    client.ChangeWindowAttributes(this.root, { backgroundPixmap: pixmap });
    client.ClearArea(this.root, 0, 0, 0, 0, 0);
    if (this.#backgroundPixmap !== undefined) client.FreePixmap(this.#backgroundPixmap);
    this.#backgroundPixmap = pixmap;
    await this.ping();
  }

  disconnect(): void {
    if (!this.#closed) this.display.client.terminate();
    this.#closed = true;
  }
}
