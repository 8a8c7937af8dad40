import {
  sniffType,
  switchOn,
  TransferRefused,
  type AgentEvents,
  type BusClient,
  type Logger,
  type TransferAudit,
  type TransferRules,
} from '@desktop-agents/kit';
import type { Desktop } from './desktop.js';
import { Selections, SelectionTooLarge } from './selections.js';

/** abcdesktop's clipboard switches and our bounds (../shared/spec/integration.md, "Clipboard over the bus"). */
export interface ClipboardPolicy {
  /** Desktop → browsers (SENDCUTTEXT). */
  send: boolean;
  /** Browsers → desktop (ACCEPTCUTTEXT). */
  accept: boolean;
  maxBytes: number;
  mimes: ReadonlySet<string>;
}

export function clipboardPolicy(env: {
  SENDCUTTEXT?: string;
  ACCEPTCUTTEXT?: string;
  CLIPBOARD_MAX_BYTES: number;
  CLIPBOARD_MIME_ALLOW: string;
}): ClipboardPolicy {
  return {
    send: switchOn(env.SENDCUTTEXT, true),
    accept: switchOn(env.ACCEPTCUTTEXT, true),
    maxBytes: env.CLIPBOARD_MAX_BYTES,
    mimes: new Set(
      env.CLIPBOARD_MIME_ALLOW.split(',')
        .map((m) => m.trim().toLowerCase())
        .filter(Boolean),
    ),
  };
}

/** A clipboard.set refused, with the reason the browser is told. */
export class ClipboardRefused extends Error {
  override name = 'ClipboardRefused';
}

const TEXT_TARGETS = ['UTF8_STRING', 'text/plain;charset=utf-8', 'STRING', 'TEXT', 'text/plain'];
const PNG = 'image/png';
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** Standard base64, padded: checked in one linear pass (a pattern with repetition overflows V8's stack on megabytes). */
function isBase64(text: string): boolean {
  if (text.length % 4 !== 0 || /[^A-Za-z0-9+/=]/.test(text)) return false;
  const padding = text.indexOf('=');
  return padding === -1 || (padding >= text.length - 2 && /^=+$/.test(text.slice(padding)));
}

type Changed = AgentEvents['clipboard.changed'];

/**
 * The desktop's clipboard between X and the browsers: CLIPBOARD read when another client takes it and published as
 * `clipboard.changed`; a browser's `clipboard.set` owned on CLIPBOARD and PRIMARY and served to X clients; and
 * abcdesktop's clipboardsync (PRIMARY copied to CLIPBOARD and SECONDARY) on the same code. Every refusal is counted
 * and said, nothing is truncated.
 */
export class Clipboard {
  #selections: Selections | undefined;
  #refused = 0;
  #published = 0;

  constructor(
    private readonly policy: ClipboardPolicy,
    private readonly bus: Pick<BusClient, 'publish'>,
    private readonly log: Logger,
    /** TRANSFER_POLICY's clipboardIn / clipboardOut rules (on the sniffed content) and the audit trail. */
    private readonly transfers?: { rules: TransferRules; audit: TransferAudit },
  ) {}

  /** The transfer rules on a selection's bytes: audited either way; a refusal throws ClipboardRefused with the rule. */
  async #screen(direction: 'clipboardIn' | 'clipboardOut', mime: string, bytes: Buffer): Promise<void> {
    if (!this.transfers) return;
    const { rules, audit } = this.transfers;
    const type = await sniffType(bytes);
    const subject = `clipboard (${mime})`;
    try {
      rules.check(direction, subject, { mime: type, bytes: bytes.length });
    } catch (err) {
      if (!(err instanceof TransferRefused)) throw err;
      audit.refused({ direction, subject, ...err.facts }, err);
      this.#refused += 1;
      throw new ClipboardRefused(err.message);
    }
    audit.allowed({ direction, subject, type, bytes: bytes.length });
  }

  get stats(): { published: number; refused: number } {
    return { published: this.#published, refused: this.#refused };
  }

  /** Each new X connection: a window of ours on it, watching CLIPBOARD. */
  async attach(desktop: Desktop): Promise<void> {
    this.#selections?.close();
    this.#selections = undefined;
    this.#selections = await Selections.open(desktop.x, ['CLIPBOARD'], () => void this.#desktopChanged(), this.log);
  }

  close(): void {
    this.#selections?.close();
    this.#selections = undefined;
  }

  /** The browsers' clipboard.set frames, each refusal answered to its sender alone (the bus's `sender` stamp). */
  acceptPastes(bus: Pick<BusClient, 'subscribe' | 'replyTo'>): void {
    bus.subscribe('clipboard.set', (message) => {
      this.set(message.data).catch((err: Error) => {
        this.log.info({ reason: err.message }, 'clipboard.set refused');
        const sender = message['sender'];
        if (typeof sender === 'number') bus.replyTo(sender, { code: 'CLIPBOARD_REFUSED', method: 'clipboard.set', message: err.message });
      });
    });
  }

  /** A browser's clipboard.set: checked against the policy, then owned on CLIPBOARD and PRIMARY. */
  async set(data: unknown): Promise<number> {
    const refuse = (message: string): never => {
      this.#refused += 1;
      throw new ClipboardRefused(message);
    };
    if (!this.policy.accept) refuse('pasting into the desktop is switched off (ACCEPTCUTTEXT)');
    if (data === null || typeof data !== 'object') return refuse('clipboard.set needs { mime, text | base64 }');
    const { mime, text, base64 } = data as { mime?: unknown; text?: unknown; base64?: unknown };
    if (typeof mime !== 'string' || !this.policy.mimes.has(mime.toLowerCase())) return refuse(`type ${String(mime)} is not allowed (CLIPBOARD_MIME_ALLOW)`);
    let bytes: Buffer;
    if (mime === 'text/plain') {
      if (typeof text !== 'string') return refuse('text/plain needs a text field');
      bytes = Buffer.from(text, 'utf8');
    } else if (mime === PNG) {
      if (typeof base64 !== 'string' || !isBase64(base64)) return refuse('image/png needs valid base64');
      // the encoded size first: a huge image is refused before it is decoded
      if (Math.floor((base64.length * 3) / 4) > this.policy.maxBytes + 2)
        return refuse(`the image is over ${this.policy.maxBytes} bytes (CLIPBOARD_MAX_BYTES)`);
      bytes = Buffer.from(base64, 'base64');
      if (!bytes.subarray(0, 8).equals(PNG_SIGNATURE)) return refuse('the data is not a PNG image');
    } else return refuse(`type ${mime} is not supported`);
    if (bytes.length > this.policy.maxBytes) return refuse(`${bytes.length} bytes are over ${this.policy.maxBytes} (CLIPBOARD_MAX_BYTES)`);
    await this.#screen('clipboardIn', mime, bytes);
    const selections = this.#connected();
    const values = mime === PNG ? [{ target: PNG, data: bytes }] : TEXT_TARGETS.map((target) => ({ target, data: bytes }));
    await selections.own(['CLIPBOARD', 'PRIMARY'], values);
    this.log.info({ mime, bytes: bytes.length }, 'clipboard set from a browser');
    return bytes.length;
  }

  /** abcdesktop's clipboardsync: PRIMARY's text to CLIPBOARD and SECONDARY (and to the browsers). Returns its bytes. */
  async syncPrimary(): Promise<number> {
    const selections = this.#connected();
    const text = await this.#readText(selections, 'PRIMARY');
    if (text === undefined) return 0;
    await selections.own(
      ['CLIPBOARD', 'SECONDARY'],
      TEXT_TARGETS.map((target) => ({ target, data: text })),
    );
    // inside the desktop the sync is done; only the browsers' copy may be refused (by clipboardOut, logged)
    await this.#publish({ mime: 'text/plain', text: text.toString('utf8'), bytes: text.length }, text).catch((err: unknown) => {
      if (!(err instanceof ClipboardRefused)) throw err;
      this.log.info({ reason: err.message }, 'clipboard change not sent');
    });
    return text.length;
  }

  #connected(): Selections {
    if (!this.#selections) throw new Error('the X display is not connected');
    return this.#selections;
  }

  async #readText(selections: Selections, selection: string): Promise<Buffer | undefined> {
    const offered = await selections.targets(selection);
    const target = TEXT_TARGETS.find((t) => offered.includes(t)) ?? (offered.length === 0 ? 'UTF8_STRING' : undefined);
    if (!target) return undefined;
    const data = await selections.read(selection, target, this.policy.maxBytes);
    // STRING is Latin-1 (ICCCM); what is published is UTF-8
    return data && target === 'STRING' ? Buffer.from(data.toString('latin1'), 'utf8') : data;
  }

  /** Another X client took CLIPBOARD: read it (a PNG when offered and allowed, else text) and publish it. */
  async #desktopChanged(): Promise<void> {
    const selections = this.#selections;
    if (!selections) return;
    if (!this.policy.send) {
      this.#refused += 1;
      this.log.info('clipboard change not sent: SENDCUTTEXT is off');
      return;
    }
    try {
      const offered = await selections.targets('CLIPBOARD');
      if (offered.includes(PNG) && this.policy.mimes.has(PNG)) {
        const png = await selections.read('CLIPBOARD', PNG, this.policy.maxBytes);
        if (png) return await this.#publish({ mime: PNG, base64: png.toString('base64'), bytes: png.length }, png);
      }
      if (!this.policy.mimes.has('text/plain')) {
        this.#refused += 1;
        this.log.info({ offered }, 'clipboard change not sent: no allowed type offered');
        return;
      }
      const text = await this.#readText(selections, 'CLIPBOARD');
      if (text) await this.#publish({ mime: 'text/plain', text: text.toString('utf8'), bytes: text.length }, text);
    } catch (err) {
      this.#refused += 1;
      const reason = err instanceof SelectionTooLarge ? `too large (CLIPBOARD_MAX_BYTES ${this.policy.maxBytes})` : (err as Error).message;
      this.log.info({ reason }, 'clipboard change not sent');
    }
  }

  async #publish(changed: Changed, bytes: Buffer): Promise<void> {
    if (!this.policy.send) {
      this.#refused += 1;
      return;
    }
    await this.#screen('clipboardOut', changed.mime, bytes);
    this.#published += 1;
    this.bus.publish('clipboard.changed', changed);
    this.log.info({ mime: changed.mime, bytes: changed.bytes }, 'clipboard sent to the browsers');
  }
}
