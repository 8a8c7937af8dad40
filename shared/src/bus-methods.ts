/**
 * The desktop bus's methods, in one place for the bus's router and for every publisher: a publisher naming a method
 * that is not here, or sending the wrong data for it, does not compile.
 */

/** A window as `window.list` and getwindowslist carry it. */
export interface BusWindow {
  id: number;
  pid: number | null;
  wm_class: string;
  title: string;
  machine_name: string;
}

/** The desktop's screen and its monitors, as GET /spawner/display and `display.changed` carry them. */
export interface BusScreenLayout {
  width: number;
  height: number;
  monitors: Array<{ name: string; x: number; y: number; width: number; height: number; primary: boolean }>;
}

/** What local services publish, relayed to every client; browsers may not send these. */
export interface AgentEvents {
  'proc.started': { pid: number; command: string };
  'proc.killed': { pid: number; code: number | null; signal: string | null };
  'window.list': BusWindow[];
  'printer.new': { newfile: true; date: string; path: string };
  'display.setBackgroundBorderColor': string;
  'speaker.available': boolean;
  'printer.available': boolean;
  /** No input for SPAWNER_IDLE_MS (the X server's own idle time), then input again. */
  'desktop.idle': { idle: true; idleMs: number } | { idle: false };
  /** A desktop notification (org.freedesktop.Notifications), for the page to show. */
  notification: {
    id: number;
    app: string;
    summary: string;
    body: string;
    icon?: string;
    urgency: 'low' | 'normal' | 'critical';
    timeoutMs: number;
    actions: Array<{ key: string; label: string }>;
  };
  'notification.closed': { id: number; reason: 'expired' | 'dismissed' | 'closed' | 'undefined' };
  /** The desktop's CLIPBOARD has a new value (text, or a PNG in base64). */
  'clipboard.changed': { mime: 'text/plain'; text: string; bytes: number } | { mime: 'image/png'; base64: string; bytes: number };
  /** The screen's size or monitors changed (through the spawner or any other X client). */
  'display.changed': BusScreenLayout;
}

export type AgentEventMethod = keyof AgentEvents;

export const AGENT_EVENT_METHODS: readonly AgentEventMethod[] = [
  'proc.started',
  'proc.killed',
  'window.list',
  'printer.new',
  'display.setBackgroundBorderColor',
  'speaker.available',
  'printer.available',
  'desktop.idle',
  'notification',
  'notification.closed',
  'clipboard.changed',
  'display.changed',
];

/** A transfer of a file or a selection, allowed or refused by TRANSFER_POLICY (docs/transfers.md). */
export interface TransferAuditEvent {
  direction: 'upload' | 'download' | 'clipboardIn' | 'clipboardOut' | 'print';
  /** The path (home-relative) or what was selected ("clipboard text"). */
  subject: string;
  /** The type sniffed from the content, when it was sniffed. */
  type?: string;
  bytes?: number;
  result: 'allowed' | 'refused';
  /** The rule that refused it. */
  rule?: string;
  /** The caller's address, and the token's subject when it is a JWT (never the token). */
  client?: string;
  user?: string;
  at: string;
}

/** What agents tell the pod's other local services only (an operator's agent may forward it): never a browser. */
export interface ServiceEvents {
  'transfer.audit': TransferAuditEvent;
}

export type ServiceEventMethod = keyof ServiceEvents;

export const SERVICE_EVENT_METHODS: readonly ServiceEventMethod[] = ['transfer.audit'];

/** What browsers send to the desktop's agents: relayed to every client, but only when a browser sends it. */
export interface BrowserEvents {
  'notification.action': { id: number; key: string };
  'clipboard.set': { mime: string; text?: string; base64?: string };
  /** The page's size: the desktop is resized to it (debounced: a window being dragged sends many). */
  'display.fit': { width: number; height: number };
  /** A file uploaded then dropped on the desktop's picture: offered with XDND to the window at x, y (root coordinates). */
  'file.drop': { path: string; x: number; y: number };
}

export type BrowserEventMethod = keyof BrowserEvents;

export const BROWSER_EVENT_METHODS: readonly BrowserEventMethod[] = ['notification.action', 'clipboard.set', 'display.fit', 'file.drop'];

/**
 * The bus stamps a browser's request with the sender's client id (`sender`) when it relays it to the agents; an
 * agent answers that browser alone with `{ method: "error", to: sender, data }` (a refused clipboard.set).
 */
export const REPLY_METHOD = 'error';

/** Relayed to every client whoever sends them (abcdesktop 4.x adds `snapshot`). */
export const SHARED_METHODS = ['hello', 'snapshot'] as const;

/** Delivered to exactly one browser (abcdesktop 4.x adds `disconnect`). */
export const UNICAST_METHODS = ['ocrun', 'logout', 'container', 'download', 'disconnect'] as const;

export const COUNTER_METHOD = 'connect.counter';
