import { userInfo } from 'node:os';
import pty, { type IPty } from 'node-pty';
import type { Logger } from '@desktop-agents/kit';
import { FlowControl } from './flow-control.js';
import { Scrollback } from './scrollback.js';

/** Where a terminal's output goes while a client is attached; implemented by the WebSocket route. */
export interface TerminalClient {
  /** Sends output; calls flushed once it has left for the client. */
  write(data: string, flushed: () => void): void;
  /** Another client attached to the same terminal. */
  replaced(): void;
  /** The shell ended. */
  exited(exitCode: number, signal: number | undefined): void;
}

export interface TerminalSettings {
  shell: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
  graceMs: number;
  scrollbackChars: number;
  maxTerminals: number;
  highWaterBytes: number;
  lowWaterBytes: number;
}

export class TooManyTerminals extends Error {}

/**
 * Bytes node-pty has taken for the pty but not yet written to it. node-pty 1.1 queues every write in JavaScript
 * (its `_writeStream._writeQueue`) and exposes no count: this typed probe reads that queue, and answers 0 where the
 * library keeps no such queue (then the kernel's pty buffer is the bound).
 */
export function pendingPtyInput(pty: IPty): number {
  const stream = (pty as unknown as { _writeStream?: { _writeQueue?: unknown } })._writeStream;
  const queue = stream?._writeQueue;
  if (!Array.isArray(queue)) return 0;
  let bytes = 0;
  for (const task of queue as Array<{ buffer?: { byteLength?: number }; offset?: number }>) bytes += (task.buffer?.byteLength ?? 0) - (task.offset ?? 0);
  return bytes;
}

/** The user's login shell, else bash. */
export function defaultShell(): string {
  try {
    const shell = userInfo().shell;
    if (shell && !shell.endsWith('/nologin') && !shell.endsWith('/false')) return shell;
  } catch {
    // no passwd entry for this uid (containers with an arbitrary uid)
  }
  return 'bash';
}

/**
 * One pty running a shell, its bounded scrollback and at most one attached client. It outlives a dropped client
 * for the grace period, and is killed if none attaches within it.
 */
export class Terminal {
  readonly scrollback: Scrollback;
  readonly exited: Promise<{ exitCode: number; signal: number | undefined }>;
  #client: TerminalClient | undefined;
  #graceTimer: NodeJS.Timeout | undefined;
  #alive = true;
  readonly #flow: FlowControl;

  constructor(
    readonly pty: IPty,
    private readonly settings: TerminalSettings,
    private readonly log: Logger,
  ) {
    this.scrollback = new Scrollback(settings.scrollbackChars);
    this.#flow = new FlowControl(settings.highWaterBytes, settings.lowWaterBytes);
    pty.onData((data) => this.#output(data));
    this.exited = new Promise((resolve) => {
      pty.onExit(({ exitCode, signal }) => {
        this.#alive = false;
        clearTimeout(this.#graceTimer);
        this.log.info({ exitCode, signal }, 'shell exited');
        this.#client?.exited(exitCode, signal);
        this.#client = undefined;
        resolve({ exitCode, signal });
      });
    });
    this.#startGrace();
  }

  get pid(): number {
    return this.pty.pid;
  }

  get alive(): boolean {
    return this.#alive;
  }

  get attached(): boolean {
    return this.#client !== undefined;
  }

  /** Makes client the receiver: it gets the scrollback first, then live output. A previous client is replaced. */
  attach(client: TerminalClient): void {
    clearTimeout(this.#graceTimer);
    const previous = this.#client;
    this.#client = client;
    if (previous) previous.replaced();
    if (this.#flow.reset()) this.pty.resume();
    const history = this.scrollback.toString();
    if (history) this.#send(client, history);
    this.log.info({ replay: history.length }, 'client attached');
  }

  detach(client: TerminalClient): void {
    if (this.#client !== client) return;
    this.#client = undefined;
    if (this.#flow.reset()) this.pty.resume();
    this.log.info({ graceMs: this.settings.graceMs }, 'client detached');
    this.#startGrace();
  }

  input(data: string): void {
    if (this.#alive) this.pty.write(data);
  }

  /** Typed input the program has not read yet (held by us, not by the kernel). */
  get pendingInput(): number {
    return this.#alive ? pendingPtyInput(this.pty) : 0;
  }

  resize(cols: number, rows: number): void {
    if (this.#alive) this.pty.resize(cols, rows);
  }

  /** SIGHUP (what a hung-up terminal sends; an interactive bash ignores SIGTERM), then SIGKILL. */
  async kill(graceMs = 2000): Promise<void> {
    if (!this.#alive) return;
    this.pty.resume();
    this.pty.kill('SIGHUP');
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), graceMs)));
    if ((await Promise.race([this.exited, late])) === 'late') {
      this.pty.kill('SIGKILL');
      await this.exited;
    }
    clearTimeout(timer);
  }

  #startGrace(): void {
    clearTimeout(this.#graceTimer);
    if (!this.#alive) return;
    this.#graceTimer = setTimeout(() => {
      this.log.info('no client within the grace period, killing the shell');
      void this.kill();
    }, this.settings.graceMs);
    this.#graceTimer.unref();
  }

  #output(data: string): void {
    this.scrollback.append(data);
    if (this.#client) this.#send(this.#client, data);
  }

  #send(client: TerminalClient, data: string): void {
    const bytes = Buffer.byteLength(data);
    if (this.#flow.account(bytes)) this.pty.pause();
    client.write(data, () => {
      if (this.#client === client && this.#flow.commit(bytes)) this.pty.resume();
    });
  }
}

/** Every terminal of this agent, by the shell's pid (the id the web UI uses). */
export class Terminals {
  readonly #byPid = new Map<number, Terminal>();

  constructor(
    private readonly settings: TerminalSettings,
    private readonly log: Logger,
  ) {}

  get size(): number {
    return this.#byPid.size;
  }

  create(cols: number, rows: number): Terminal {
    if (this.#byPid.size >= this.settings.maxTerminals) throw new TooManyTerminals(`at most ${this.settings.maxTerminals} terminals`);
    const child = pty.spawn(this.settings.shell, [], {
      name: 'xterm-256color',
      cols,
      rows,
      cwd: this.settings.cwd,
      env: { ...this.settings.env, TERM: 'xterm-256color', COLORTERM: 'truecolor' },
    });
    const terminal = new Terminal(child, this.settings, this.log.child({ terminal: child.pid }));
    this.#byPid.set(child.pid, terminal);
    void terminal.exited.then(() => this.#byPid.delete(child.pid));
    this.log.info({ terminal: child.pid, cols, rows }, 'terminal created');
    return terminal;
  }

  get(pid: number): Terminal | undefined {
    return this.#byPid.get(pid);
  }

  async killAll(): Promise<void> {
    await Promise.all([...this.#byPid.values()].map((t) => t.kill()));
  }
}
