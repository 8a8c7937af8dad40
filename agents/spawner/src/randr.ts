import type { RandrExtension, RandrOutputInfo, RandrScreenResources, XClient } from 'x11';
import { call } from './desktop.js';

/** A monitor of the screen: a rectangle of it, as RANDR 1.5 lists them (an output's own, or one a client set). */
export interface Monitor {
  name: string;
  x: number;
  y: number;
  width: number;
  height: number;
  primary: boolean;
}

/** The screen's size and its monitors: what GET /spawner/display and `display.changed` carry. */
export interface ScreenLayout {
  width: number;
  height: number;
  monitors: Monitor[];
}

/** What the X server cannot do (no RANDR, a screen of fixed size, no new modes): answered 409 with the reason. */
export class RandrRefusal extends Error {
  override readonly name = 'RandrRefusal';
}

// RANDR 1.5's monitor requests, which the x11 library does not define (randrproto.txt, "Extension Requests")
const GET_MONITORS = 42;
const SET_MONITOR = 43;
const DELETE_MONITOR = 44;
const ROTATE_0 = 1;
/** The physical size the server is told: 96 dpi, what Xvnc and Xvfb assume. */
const millimetres = (pixels: number) => Math.max(1, Math.round((pixels * 25.4) / 96));

interface MonitorInfo extends Monitor {
  atom: number;
  automatic: boolean;
}

/**
 * RANDR on the spawner's own X connection: the screen's layout, its size (with a mode added when the server has
 * none of that size, as Xvnc allows) and a layout of several monitors (RANDR 1.5), and a callback on every change
 * made by anyone (ScreenChangeNotify, CRTC and output changes).
 */
export class Randr {
  private constructor(
    private readonly client: XClient,
    private readonly root: number,
    private readonly ext: RandrExtension,
  ) {}

  /** Fails with a RandrRefusal when the X server has no RANDR. */
  static async open(client: XClient, root: number): Promise<Randr> {
    const ext = await call<RandrExtension>((cb) => client.require('randr', cb)).catch((err: Error) => {
      throw new RandrRefusal(`the X server has no RANDR extension (${err.message})`);
    });
    return new Randr(client, root, ext);
  }

  get hasMonitors(): boolean {
    return this.ext.major_version > 1 || this.ext.minor_version >= 5;
  }

  /** Calls `listener` on each RANDR event of the screen; returns what stops it. */
  watch(listener: () => void): () => void {
    const { NotifyMask } = this.ext;
    this.ext.SelectInput(this.root, NotifyMask.ScreenChange | NotifyMask.CrtcChange | NotifyMask.OutputChange);
    const onEvent = (event: { type: number }) => {
      // RRScreenChangeNotify, and RRNotify (CRTC, output) whose sub-codes the library does not parse
      if (event.type === this.ext.firstEvent || event.type === this.ext.firstEvent + 1) listener();
    };
    this.client.on('event', onEvent);
    return () => this.client.off('event', onEvent);
  }

  async layout(): Promise<ScreenLayout> {
    const { width, height } = await call<{ width: number; height: number }>((cb) => this.client.GetGeometry(this.root, cb));
    if (!this.hasMonitors) return { width, height, monitors: [{ name: 'screen', x: 0, y: 0, width, height, primary: true }] };
    const monitors = (await this.#monitors(true))
      .map(({ name, x, y, width: w, height: h, primary }) => ({ name, x, y, width: w, height: h, primary }))
      // the server lists the primary first: left to right, then top to bottom, reads as the layout was set
      .sort((a, b) => a.x - b.x || a.y - b.y);
    return { width, height, monitors };
  }

  async sizeRange(): Promise<{ minWidth: number; minHeight: number; maxWidth: number; maxHeight: number }> {
    return call((cb) => this.ext.GetScreenSizeRange(this.root, cb));
  }

  /** The screen at `width` × `height` on its main output, with one monitor (the layouts set before are removed). */
  async setSize(width: number, height: number): Promise<void> {
    const range = await this.sizeRange();
    if (width > range.maxWidth || height > range.maxHeight || width < range.minWidth || height < range.minHeight) {
      const fixed = range.minWidth === range.maxWidth && range.minHeight === range.maxHeight;
      throw new RandrRefusal(
        fixed
          ? `the X server's screen has a fixed size (${range.maxWidth}x${range.maxHeight})`
          : `the X server's screen can be from ${range.minWidth}x${range.minHeight} to ${range.maxWidth}x${range.maxHeight}`,
      );
    }
    let resources = await this.#resources();
    const { output, info } = await this.#mainOutput(resources);
    if (!resources.modeinfos.some((m) => m.width === width && m.height === height && info.modes.includes(m.id))) {
      await this.#addMode(output, resources, width, height);
      resources = await this.#resources();
    }
    const mode = resources.modeinfos.find((m) => m.width === width && m.height === height);
    if (!mode) throw new RandrRefusal(`the X server did not keep a mode of ${width}x${height}`);
    if (this.hasMonitors) await this.#deleteClientMonitors();
    const current = await call<{ width: number; height: number }>((cb) => this.client.GetGeometry(this.root, cb));
    // the CRTC must fit the screen at every step: grow the screen first where it grows, shrink it last
    const interim = { width: Math.max(width, current.width), height: Math.max(height, current.height) };
    if (interim.width !== current.width || interim.height !== current.height) await this.#screenSize(interim.width, interim.height);
    const set = await call<{ status: number }>((cb) => this.ext.SetCrtcConfig(info.crtc, 0, resources.config_timestamp, 0, 0, mode.id, ROTATE_0, [output], cb));
    if (set.status !== 0) throw new RandrRefusal(`the X server refused the mode ${width}x${height} (RANDR status ${set.status})`);
    if (interim.width !== width || interim.height !== height) await this.#screenSize(width, height);
  }

  /** The screen sized to hold `monitors`, then each of them set (the first takes the output, so no other is listed). */
  async setMonitors(monitors: Monitor[]): Promise<void> {
    if (!this.hasMonitors) throw new RandrRefusal(`the X server's RANDR ${this.ext.major_version}.${this.ext.minor_version} has no monitors (1.5)`);
    const width = Math.max(...monitors.map((m) => m.x + m.width));
    const height = Math.max(...monitors.map((m) => m.y + m.height));
    await this.setSize(width, height);
    const { output } = await this.#mainOutput(await this.#resources());
    for (const [index, monitor] of monitors.entries()) {
      const atom = await call<number>((cb) => this.client.InternAtom(false, monitor.name, cb));
      const outputs = index === 0 ? [output] : [];
      const request = Buffer.alloc(32 + 4 * outputs.length);
      this.#header(request, SET_MONITOR);
      request.writeUInt32LE(atom, 8);
      request.writeUInt8(monitor.primary ? 1 : 0, 12);
      request.writeUInt8(0, 13);
      request.writeUInt16LE(outputs.length, 14);
      request.writeInt16LE(monitor.x, 16);
      request.writeInt16LE(monitor.y, 18);
      request.writeUInt16LE(monitor.width, 20);
      request.writeUInt16LE(monitor.height, 22);
      request.writeUInt32LE(millimetres(monitor.width), 24);
      request.writeUInt32LE(millimetres(monitor.height), 28);
      outputs.forEach((o, i) => request.writeUInt32LE(o, 32 + 4 * i));
      await this.#send(request).catch((err: Error) => {
        throw new RandrRefusal(`the X server refused the monitor ${monitor.name}: ${err.message}`);
      });
    }
  }

  #resources(): Promise<RandrScreenResources> {
    return call((cb) => this.ext.GetScreenResourcesCurrent(this.root, cb));
  }

  /** The primary output, else the first connected one with a CRTC. */
  async #mainOutput(resources: RandrScreenResources): Promise<{ output: number; info: RandrOutputInfo }> {
    const primary = await call<number>((cb) => this.ext.GetOutputPrimary(this.root, cb)).catch(() => 0);
    const candidates = [primary, ...resources.outputs].filter((o) => o !== 0 && resources.outputs.includes(o));
    for (const output of candidates) {
      const info = await call<RandrOutputInfo>((cb) => this.ext.GetOutputInfo(output, resources.config_timestamp, cb));
      if (info.connection === 0 && info.crtc !== 0) return { output, info };
    }
    throw new RandrRefusal('the X server has no connected output with a CRTC');
  }

  async #addMode(output: number, resources: RandrScreenResources, width: number, height: number): Promise<void> {
    const known = resources.modeinfos.find((m) => m.width === width && m.height === height);
    const id =
      known?.id ??
      (await call<number>((cb) =>
        this.ext.CreateMode(
          this.root,
          // a virtual screen's mode: no blanking, 60 Hz
          {
            width,
            height,
            dot_clock: width * height * 60,
            h_sync_start: width,
            h_sync_end: width,
            h_total: width,
            v_sync_start: height,
            v_sync_end: height,
            v_total: height,
            name: `${width}x${height}`,
          },
          cb,
        ),
      ).catch((err: Error) => {
        throw new RandrRefusal(`the X server cannot make a mode of ${width}x${height}: ${err.message}`);
      }));
    await this.#checked(() => this.ext.AddOutputMode(output, id)).catch((err: Error) => {
      throw new RandrRefusal(`the X server cannot show ${width}x${height}: ${err.message}`);
    });
  }

  async #screenSize(width: number, height: number): Promise<void> {
    await this.#checked(() => this.ext.SetScreenSize(this.root, width, height, millimetres(width), millimetres(height))).catch((err: Error) => {
      throw new RandrRefusal(`the X server cannot size its screen ${width}x${height}: ${err.message}`);
    });
  }

  async #monitors(activeOnly: boolean): Promise<MonitorInfo[]> {
    const request = Buffer.alloc(12);
    this.#header(request, GET_MONITORS);
    request.writeUInt8(activeOnly ? 1 : 0, 8);
    const found = await this.#send(request, (reply) => {
      const list: Array<Omit<MonitorInfo, 'name'>> = [];
      let at = 24;
      for (let n = reply.readUInt32LE(4); n > 0; n--) {
        list.push({
          atom: reply.readUInt32LE(at),
          primary: reply.readUInt8(at + 4) !== 0,
          automatic: reply.readUInt8(at + 5) !== 0,
          x: reply.readInt16LE(at + 8),
          y: reply.readInt16LE(at + 10),
          width: reply.readUInt16LE(at + 12),
          height: reply.readUInt16LE(at + 14),
        });
        at += 24 + 4 * reply.readUInt16LE(at + 6);
      }
      return list;
    });
    const named: MonitorInfo[] = [];
    for (const monitor of found ?? []) named.push({ ...monitor, name: await call<string>((cb) => this.client.GetAtomName(monitor.atom, cb)) });
    return named;
  }

  async #deleteClientMonitors(): Promise<void> {
    for (const monitor of await this.#monitors(false)) {
      if (monitor.automatic) continue;
      const request = Buffer.alloc(12);
      this.#header(request, DELETE_MONITOR);
      request.writeUInt32LE(monitor.atom, 8);
      await this.#send(request);
    }
  }

  /** The extension's opcode, the request's minor opcode and its length in 4-byte units, and the root window. */
  #header(request: Buffer, minor: number): void {
    request.writeUInt8(this.ext.majorOpcode, 0);
    request.writeUInt8(minor, 1);
    request.writeUInt16LE(request.length / 4, 2);
    request.writeUInt32LE(this.root, 4);
  }

  /** A request the library does not define: its reply parsed by `parse`, or (void) confirmed by a later round trip. */
  #send<T>(request: Buffer, parse?: (reply: Buffer) => T): Promise<T | undefined> {
    return call<T | undefined>((cb) => {
      const queue = this.client;
      queue.seq_num++;
      const seq = queue.seq_num;
      queue.replies[seq] = [parse, cb as (err: Error | null, result?: unknown) => unknown];
      queue.pack_stream.put(request);
      if (!parse) queue._scheduleVoidSync(seq);
      queue.pack_stream.submit(parse !== undefined);
    });
  }

  /** A void request of the library's, with its failure reported (the server answers a void request only when it fails). */
  #checked(send: () => void): Promise<void> {
    return call<void>((cb) => {
      send();
      const seq = this.client.seq_num;
      this.client.replies[seq] = [undefined, cb as (err: Error | null, result?: unknown) => unknown];
      this.client._scheduleVoidSync(seq);
    });
  }
}
