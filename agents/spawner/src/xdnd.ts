// The source side of XDND (freedesktop.org's drag and drop protocol, version 5) on the spawner's own X connection:
// a file the browser dropped on the desktop's picture is offered as a text/uri-list to the window at that point, so
// the application there opens it as if it had been dragged from a file manager.
import type { Logger } from '@desktop-agents/kit';
import type { XAnyEvent, XClient, XProperty } from 'x11';
import { call } from './desktop.js';
import { Selections } from './selections.js';

const CLIENT_MESSAGE = 33;
/** The newest XDND version we speak; a target announces its own in XdndAware. */
const XDND_VERSION = 5;
/** The oldest XDND version that has XdndStatus with an accepted action and XdndFinished. */
const OLDEST_VERSION = 3;
const ATOM_TYPE = 4;
/** How long the target may take to answer one step. */
const STEP_MS = 3000;
/** Windows nested deeper than this under the root are not looked into. */
const MAX_DEPTH = 16;

const ATOMS = [
  'XdndAware',
  'XdndEnter',
  'XdndPosition',
  'XdndStatus',
  'XdndDrop',
  'XdndFinished',
  'XdndLeave',
  'XdndActionCopy',
  'XdndSelection',
  'text/uri-list',
] as const;
type XdndAtom = (typeof ATOMS)[number];

/** A drop that did not happen, with why (the sender is told). */
export class DropRefused extends Error {
  override name = 'DropRefused';
}

export interface DropResult {
  /** The window that took the drop (the XdndAware one under the point). */
  window: number;
  /** Whether the target said it took the data (XdndFinished), for targets of version 5. */
  finished: boolean;
}

/** `file://` URIs, one per line with CRLF, each path percent-encoded but for its slashes (RFC 2483, RFC 8089). */
export function uriList(paths: string[]): Buffer {
  const uri = (path: string) => `file://${path.split('/').map(encodeURIComponent).join('/')}`;
  return Buffer.from(paths.map((p) => `${uri(p)}\r\n`).join(''));
}

export class XdndSource {
  #selections: Selections | undefined;
  #client: XClient | undefined;
  #root = 0;
  #atoms: Record<XdndAtom, number> | undefined;
  /** One drag at a time: XdndSelection holds one offer. */
  #busy: Promise<unknown> = Promise.resolve();

  constructor(private readonly log: Logger) {}

  /** Each new X connection: a window of ours as the drag's source. */
  async attach(x: { client: XClient; root: number }): Promise<void> {
    this.#selections?.close();
    this.#selections = await Selections.open(x, [], () => undefined, this.log);
    const atoms = {} as Record<XdndAtom, number>;
    for (const name of ATOMS) atoms[name] = await this.#selections.atom(name);
    this.#client = x.client;
    this.#root = x.root;
    this.#atoms = atoms;
  }

  close(): void {
    this.#selections?.close();
    this.#selections = undefined;
  }

  /** Drops `paths` (absolute, already checked by the caller) on the window at root coordinates (x, y). */
  drop(paths: string[], x: number, y: number): Promise<DropResult> {
    const result = this.#busy.then(() => this.#drop(paths, x, y));
    this.#busy = result.catch(() => undefined);
    return result;
  }

  async #drop(paths: string[], x: number, y: number): Promise<DropResult> {
    const selections = this.#selections;
    const client = this.#client;
    const atoms = this.#atoms;
    if (!selections || !client || !atoms) throw new DropRefused('the X display is not connected');
    const target = await this.#awareWindowAt(client, atoms, x, y);
    if (!target) throw new DropRefused(`the window at ${x},${y} does not accept dropped files (no XdndAware)`);
    if (target.version < OLDEST_VERSION) throw new DropRefused(`the window at ${x},${y} speaks XDND ${target.version}; ${OLDEST_VERSION} or later is needed`);
    const version = Math.min(target.version, XDND_VERSION);
    const source = selections.window;
    await selections.own(['XdndSelection'], [{ target: 'text/uri-list', data: uriList(paths) }]);
    const send = (type: XdndAtom, data: number[]) => client.SendClientMessage(target.window, target.window, atoms[type], 32, data, 0);
    const fromTarget = (type: XdndAtom) =>
      this.#next(client, (e) => e.type === CLIENT_MESSAGE && e.message_type === atoms[type] && e.wid === source && e.data?.[0] === target.window, type);

    const status = fromTarget('XdndStatus');
    send('XdndEnter', [source, version << 24, atoms['text/uri-list'], 0, 0]);
    send('XdndPosition', [source, 0, ((x & 0xffff) << 16) | (y & 0xffff), 0, atoms.XdndActionCopy]);
    const answer = await status.catch((err: Error) => {
      send('XdndLeave', [source, 0, 0, 0, 0]);
      throw new DropRefused(`the window at ${x},${y} did not answer the drag: ${err.message}`);
    });
    if (((answer.data?.[1] ?? 0) & 1) === 0) {
      send('XdndLeave', [source, 0, 0, 0, 0]);
      throw new DropRefused(`the window at ${x},${y} refused the drop`);
    }
    const finished = version >= 5 ? fromTarget('XdndFinished') : undefined;
    send('XdndDrop', [source, 0, 0, 0, 0]);
    const done = await finished?.catch((err: Error) => {
      this.log.info({ err: { message: err.message } }, 'no XdndFinished from the drop target');
      return undefined;
    });
    this.log.info({ window: target.window, files: paths.length }, 'files dropped on a window');
    return { window: target.window, finished: done !== undefined && ((done.data?.[1] ?? 0) & 1) === 1 };
  }

  /** The top-most window under the point that carries XdndAware (a client window inside its frame, usually). */
  async #awareWindowAt(client: XClient, atoms: Record<XdndAtom, number>, x: number, y: number): Promise<{ window: number; version: number } | undefined> {
    let parent = this.#root;
    for (let depth = 0; depth < MAX_DEPTH; depth++) {
      const { child } = await call<{ child: number }>((cb) => client.TranslateCoordinates(this.#root, parent, x, y, cb));
      if (!child) return undefined;
      const aware = await call<XProperty>((cb) => client.GetProperty(0, child, atoms.XdndAware, ATOM_TYPE, 0, 1, cb));
      if (aware.type === ATOM_TYPE && aware.data.length >= 4) return { window: child, version: aware.data.readUInt32LE(0) };
      parent = child;
    }
    return undefined;
  }

  #next(client: XClient, match: (e: XAnyEvent) => boolean, what: string): Promise<XAnyEvent> {
    return new Promise((resolve, reject) => {
      const onEvent = (event: XAnyEvent) => {
        if (!match(event)) return;
        clearTimeout(timer);
        client.off('event', onEvent);
        resolve(event);
      };
      const timer = setTimeout(() => {
        client.off('event', onEvent);
        reject(new Error(`no ${what} within ${STEP_MS} ms`));
      }, STEP_MS);
      client.on('event', onEvent);
    });
  }
}
