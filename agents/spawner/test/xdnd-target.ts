// A small X client for the tests: a window that takes XDND drops (XdndAware 5) and records each drop's text/uri-list,
// as a file manager or an editor does: XdndStatus (accept, copy) to each XdndPosition, on XdndDrop a ConvertSelection
// of XdndSelection, then XdndFinished. With `accepts: false` it answers every position with a refusal.
import x11 from 'x11';
import type { XAnyEvent, XClient, XDisplay, XProperty } from 'x11';

const CLIENT_MESSAGE = 33;
const INPUT_OUTPUT = 1;
const ATOM_TYPE = 4;
const ANY_TYPE = 0;

export interface XdndTarget {
  window: number;
  /** The window's origin in root coordinates (after the window manager placed it). */
  origin(): Promise<{ x: number; y: number }>;
  /** The URI lists dropped so far. */
  readonly drops: string[];
  /** The types each XdndEnter offered. */
  readonly offered: string[][];
  close(): void;
}

function call<T>(fn: (cb: (err: Error | null, result: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((err, result) => (err ? reject(err) : resolve(result))));
}

export async function startXdndTarget(display: string, options: { accepts?: boolean; aware?: boolean } = {}): Promise<XdndTarget> {
  const connection = await new Promise<XDisplay>((resolve, reject) => x11.createClient({ display }, (err, d) => (err ? reject(err) : resolve(d))));
  const client: XClient = connection.client;
  const root = connection.screen[0]?.root ?? 0;
  const atom = (name: string) => call<number>((cb) => client.InternAtom(false, name, cb));
  const [aware, enter, position, status, drop, finished, actionCopy, selection, uriList, property] = await Promise.all(
    [
      'XdndAware',
      'XdndEnter',
      'XdndPosition',
      'XdndStatus',
      'XdndDrop',
      'XdndFinished',
      'XdndActionCopy',
      'XdndSelection',
      'text/uri-list',
      'DROPPED_FILES',
    ].map(atom),
  );
  const window = client.AllocID();
  client.CreateWindow(window, root, 100, 100, 400, 300, 0, 0, INPUT_OUTPUT, 0, { eventMask: 0x400000 });
  if (options.aware !== false) client.ChangeProperty(0, window, aware ?? 0, ATOM_TYPE, 32, [5]);
  client.MapWindow(window);
  const drops: string[] = [];
  const offered: string[][] = [];
  let source = 0;
  client.on('event', (event: XAnyEvent) => {
    void (async () => {
      if (event.type === CLIENT_MESSAGE && event.wid === window) {
        const data = event.data ?? [];
        if (event.message_type === enter) {
          source = data[0] ?? 0;
          offered.push(
            await Promise.all(
              data
                .slice(2)
                .filter(Boolean)
                .map((a) => call<string>((cb) => client.GetAtomName(a, cb))),
            ),
          );
        } else if (event.message_type === position) {
          const accept = options.accepts !== false ? 1 : 0;
          client.SendClientMessage(data[0] ?? 0, data[0] ?? 0, status ?? 0, 32, [window, accept, 0, 0, accept ? (actionCopy ?? 0) : 0], 0);
        } else if (event.message_type === drop) {
          client.ConvertSelection(window, selection ?? 0, uriList ?? 0, property ?? 0, data[2] ?? 0);
        }
      } else if (event.name === 'SelectionNotify' && event.requestor === window) {
        const value = await call<XProperty>((cb) => client.GetProperty(1, window, property ?? 0, ANY_TYPE, 0, 1 << 16, cb));
        drops.push(value.data.toString('utf8'));
        client.SendClientMessage(source, source, finished ?? 0, 32, [window, 1, actionCopy ?? 0, 0, 0], 0);
      }
    })();
  });
  // viewable (the window manager has framed and mapped it) before the caller drops on it
  for (let tries = 0; (await call<{ mapState: number }>((cb) => client.GetWindowAttributes(window, cb))).mapState !== 2; tries++) {
    if (tries > 100) throw new Error('the drop target was never mapped');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return {
    window,
    drops,
    offered,
    origin: async () => {
      const at = await call<{ destX: number; destY: number }>((cb) => client.TranslateCoordinates(window, root, 0, 0, cb));
      return { x: at.destX, y: at.destY };
    },
    close: () => client.terminate(),
  };
}
