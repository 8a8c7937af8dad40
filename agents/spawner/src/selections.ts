import type { Logger } from '@desktop-agents/kit';
import type { FixesExtension, XAnyEvent, XClient, XProperty } from 'x11';
import { call } from './desktop.js';

/** Data offered or read on a selection, under one target (an X atom name such as UTF8_STRING or image/png). */
export interface SelectionData {
  target: string;
  data: Buffer;
}

export class SelectionTooLarge extends Error {
  override name = 'SelectionTooLarge';
}

const SELECTION_NOTIFY = 31;
const PROPERTY_NEW_VALUE = 0;
const PROPERTY_DELETED = 1;
const PROPERTY_CHANGE_MASK = 0x400000;
const INPUT_ONLY = 2;
const ANY_TYPE = 0;
/** Larger values go by INCR, in chunks of this size: a core request holds 256 KiB, its header included. */
const INCR_CHUNK = 256 * 1024 - 1024;
/** How long one step of a transfer may take before the other side is given up on. */
const STEP_MS = 2000;

const ATOM_NAMES = ['CLIPBOARD', 'PRIMARY', 'SECONDARY', 'TARGETS', 'TIMESTAMP', 'MULTIPLE', 'INCR', 'ATOM', 'INTEGER', 'DESKTOP_AGENTS_SELECTION'] as const;
type Known = (typeof ATOM_NAMES)[number];

interface Waiter {
  match(event: XAnyEvent): boolean;
  resolve(event: XAnyEvent): void;
}

/** A value we own and serve, by target name. */
interface Offer {
  targets: Map<number, Buffer>;
}

/**
 * The X selections over the X protocol, on the spawner's own connection (no xclip): reads a selection (TARGETS, then
 * a target, INCR for large values), owns selections and answers other clients' SelectionRequests (INCR too), and
 * reports when another client takes a selection (XFIXES). Knows nothing of policy or the bus.
 */
export class Selections {
  readonly #waiters = new Set<Waiter>();
  readonly #offers = new Map<number, Offer>();
  readonly #atomNames = new Map<number, string>();
  #busy: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly client: XClient,
    readonly window: number,
    private readonly atoms: Record<Known, number>,
    private readonly log: Logger,
  ) {
    client.on('event', (event: XAnyEvent) => this.#onEvent(event));
  }

  /** Creates the invisible window that owns and requests, and watches `watched` for new owners. */
  static async open(x: { client: XClient; root: number }, watched: string[], onOwnerChange: (selection: string) => void, log: Logger): Promise<Selections> {
    const { client, root } = x;
    const atoms = {} as Record<Known, number>;
    for (const name of ATOM_NAMES) atoms[name] = await call<number>((cb) => client.InternAtom(false, name, cb));
    const window = client.AllocID();
    client.CreateWindow(window, root, -10, -10, 1, 1, 0, 0, INPUT_ONLY, 0, { eventMask: PROPERTY_CHANGE_MASK });
    const selections = new Selections(client, window, atoms, log);
    const fixes = await call<FixesExtension>((cb) => client.require('fixes', cb));
    for (const name of watched) {
      const atom = await selections.atom(name);
      fixes.SelectSelectionInput(window, atom, fixes.SelectionEventMask.SetSelectionOwner);
    }
    client.on('event', (event: XAnyEvent) => {
      if (event.type !== fixes.firstEvent || event.owner === window || event.owner === 0) return;
      const name = selections.#atomNames.get(event.selection ?? 0);
      if (name) onOwnerChange(name);
    });
    return selections;
  }

  async atom(name: string): Promise<number> {
    const known = (this.atoms as Record<string, number>)[name];
    const atom = known ?? (await call<number>((cb) => this.client.InternAtom(false, name, cb)));
    this.#atomNames.set(atom, name);
    return atom;
  }

  /** Whether this window owns the selection now. */
  async owns(selection: string): Promise<boolean> {
    const atom = await this.atom(selection);
    return (await call<number>((cb) => this.client.GetSelectionOwner(atom, cb))) === this.window;
  }

  /** The target names the selection's owner offers (empty when there is no owner or it does not answer). */
  async targets(selection: string): Promise<string[]> {
    const value = await this.read(selection, 'TARGETS', 64 * 1024).catch(() => undefined);
    if (!value) return [];
    const names: string[] = [];
    for (let i = 0; i + 4 <= value.length; i += 4) {
      const atom = value.readUInt32LE(i);
      names.push(this.#atomNames.get(atom) ?? (await call<string>((cb) => this.client.GetAtomName(atom, cb)).catch(() => '')));
    }
    return names.filter(Boolean);
  }

  /**
   * The selection's value as `target`, INCR transfers included; undefined when the owner refuses the target.
   * Throws SelectionTooLarge past maxBytes (the transfer is abandoned), or when the owner stops answering.
   */
  read(selection: string, target: string, maxBytes: number): Promise<Buffer | undefined> {
    // one conversion at a time on our one property
    const result = this.#busy.then(() => this.#read(selection, target, maxBytes));
    this.#busy = result.catch(() => undefined);
    return result;
  }

  /** Owns the selections with these values (target name → bytes), until another client takes them. */
  async own(selections: string[], values: SelectionData[]): Promise<void> {
    const targets = new Map<number, Buffer>();
    for (const v of values) targets.set(await this.atom(v.target), v.data);
    for (const name of selections) {
      const atom = await this.atom(name);
      this.#offers.set(atom, { targets });
      this.client.SetSelectionOwner(this.window, atom, 0);
      if (!(await this.owns(name))) throw new Error(`the X server did not give us ${name}`);
    }
  }

  close(): void {
    this.#offers.clear();
    for (const w of this.#waiters) w.resolve({ type: 0, name: 'closed' });
    this.#waiters.clear();
    try {
      this.client.DestroyWindow(this.window);
    } catch {
      // the connection is gone already
    }
  }

  async #read(selection: string, target: string, maxBytes: number): Promise<Buffer | undefined> {
    const selectionAtom = await this.atom(selection);
    const targetAtom = await this.atom(target);
    const property = this.atoms.DESKTOP_AGENTS_SELECTION;
    this.client.DeleteProperty(this.window, property);
    const notified = this.#next(
      (e) => e.type === SELECTION_NOTIFY && e.requestor === this.window && e.selection === selectionAtom && e.target === targetAtom,
      `the owner of ${selection} did not answer for ${target}`,
    );
    this.client.ConvertSelection(this.window, selectionAtom, targetAtom, property, 0);
    const event = await notified;
    if (!event.property) return undefined;
    // more than maxBytes in one property: the reply says so in bytesAfter, without sending it all
    const longs = Math.ceil(maxBytes / 4) + 1;
    const first = await call<XProperty>((cb) => this.client.GetProperty(0, this.window, property, ANY_TYPE, 0, longs, cb));
    if (first.type !== this.atoms.INCR) {
      this.client.DeleteProperty(this.window, property);
      if (first.bytesAfter > 0 || first.data.length > maxBytes) throw new SelectionTooLarge(`${selection} as ${target} is over ${maxBytes} bytes`);
      return first.data;
    }
    const announced = first.data.length >= 4 ? first.data.readUInt32LE(0) : 0;
    if (announced > maxBytes) {
      this.client.DeleteProperty(this.window, property);
      throw new SelectionTooLarge(`${selection} as ${target} announces ${announced} bytes, over ${maxBytes}`);
    }
    // INCR: each deletion asks for the next chunk; an empty chunk ends it
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const arrived = this.#next(
        (e) => e.name === 'PropertyNotify' && e.wid === this.window && e.atom === property && e.state === PROPERTY_NEW_VALUE,
        `the owner of ${selection} stopped sending`,
      );
      this.client.DeleteProperty(this.window, property);
      await arrived;
      const chunk = await call<XProperty>((cb) => this.client.GetProperty(0, this.window, property, ANY_TYPE, 0, longs, cb));
      if (chunk.data.length === 0) {
        this.client.DeleteProperty(this.window, property);
        return Buffer.concat(chunks, total);
      }
      total += chunk.data.length;
      if (total > maxBytes) {
        this.client.DeleteProperty(this.window, property);
        throw new SelectionTooLarge(`${selection} as ${target} is over ${maxBytes} bytes`);
      }
      chunks.push(chunk.data);
    }
  }

  #next(match: (event: XAnyEvent) => boolean, timeoutMessage: string): Promise<XAnyEvent> {
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        match,
        resolve: (event) => {
          clearTimeout(timer);
          this.#waiters.delete(waiter);
          if (event.name === 'closed') reject(new Error('the X connection closed'));
          else resolve(event);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(new Error(timeoutMessage));
      }, STEP_MS);
      this.#waiters.add(waiter);
    });
  }

  #onEvent(event: XAnyEvent): void {
    for (const w of this.#waiters) {
      if (w.match(event)) {
        w.resolve(event);
        return;
      }
    }
    if (event.name === 'SelectionRequest' && event.owner === this.window) this.#answer(event);
    else if (event.name === 'SelectionClear' && event.owner === this.window) {
      this.#offers.delete(event.selection ?? 0);
      this.log.debug({ selection: this.#atomNames.get(event.selection ?? 0) }, 'selection taken by another client');
    }
  }

  /** Answers another client's request for a selection we own (ICCCM 2.2). */
  #answer(request: XAnyEvent): void {
    const requestor = request.requestor ?? 0;
    const target = request.target ?? 0;
    // obsolete clients name no property: the target is the property then
    const property = request.property || target;
    const offer = this.#offers.get(request.selection ?? 0);
    let answered = 0;
    if (offer) {
      if (target === this.atoms.TARGETS) {
        const list = [this.atoms.TARGETS, this.atoms.TIMESTAMP, ...offer.targets.keys()];
        this.client.ChangeProperty(0, requestor, property, this.atoms.ATOM, 32, list);
        answered = property;
      } else if (target === this.atoms.TIMESTAMP) {
        this.client.ChangeProperty(0, requestor, property, this.atoms.INTEGER, 32, [0]);
        answered = property;
      } else {
        const data = offer.targets.get(target);
        if (data && data.length > INCR_CHUNK) {
          this.#sendIncrementally(requestor, property, target, data);
          answered = property;
        } else if (data) {
          this.client.ChangeProperty(0, requestor, property, target, 8, data);
          answered = property;
        }
      }
    }
    this.client.SendEvent(requestor, false, 0, {
      type: SELECTION_NOTIFY,
      name: 'SelectionNotify',
      seq: 0,
      time: request.time ?? 0,
      requestor,
      selection: request.selection ?? 0,
      target,
      property: answered,
    });
  }

  /** INCR to a requestor: announce the size, then a chunk each time it deletes the property, then an empty one. */
  #sendIncrementally(requestor: number, property: number, target: number, data: Buffer): void {
    this.client.ChangeWindowAttributes(requestor, { eventMask: PROPERTY_CHANGE_MASK });
    this.client.ChangeProperty(0, requestor, property, this.atoms.INCR, 32, [data.length]);
    let offset = 0;
    const step = (): void => {
      this.#next(
        (e) => e.name === 'PropertyNotify' && e.wid === requestor && e.atom === property && e.state === PROPERTY_DELETED,
        'requestor stopped reading',
      ).then(
        () => {
          const chunk = data.subarray(offset, offset + INCR_CHUNK);
          this.client.ChangeProperty(0, requestor, property, target, 8, chunk);
          offset += chunk.length;
          if (chunk.length > 0) step();
        },
        (err: Error) => this.log.info({ err: { message: err.message } }, 'INCR transfer abandoned'),
      );
    };
    step();
  }
}
