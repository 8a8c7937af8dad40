import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import type { Logger } from 'pino';

import { isSecretName } from './secrets.js';

/**
 * The environment for a child process: the agent's own (or `base`) without secrets (secrets.ts), plus `extra`. The one rule for
 * every child any agent starts; ChildProcesses applies it to whatever env it is given.
 */
export function childEnv(extra: NodeJS.ProcessEnv = {}, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries({ ...base, ...extra })) if (!isSecretName(name)) env[name] = value;
  return env;
}

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * The processes an agent started. Commands are argv arrays (never a shell string); every child is awaited so none is
 * left a zombie, and killAll sends SIGTERM, then SIGKILL to those still alive after the grace period.
 */
export class ChildProcesses {
  readonly #running = new Map<number, { child: ChildProcess; exited: Promise<ChildExit> }>();

  constructor(private readonly log: Logger) {}

  /** `started` resolves once the program runs, and rejects with the reason when it cannot (missing, not executable). */
  spawn(command: string, args: readonly string[], options: SpawnOptions = {}): { child: ChildProcess; exited: Promise<ChildExit>; started: Promise<void> } {
    const child = spawn(command, [...args], { ...options, env: childEnv({}, options.env ?? process.env), shell: false });
    const started = new Promise<void>((resolve, reject) => {
      child.once('spawn', () => resolve());
      child.once('error', reject);
    });
    started.catch(() => {});
    const exited = new Promise<ChildExit>((resolve) => {
      child.once('error', (err) => {
        this.log.warn({ err, command }, 'child process failed to start');
        resolve({ code: null, signal: null });
      });
      child.once('exit', (code, signal) => resolve({ code, signal }));
    });
    const pid = child.pid;
    if (pid !== undefined) {
      this.#running.set(pid, { child, exited });
      void exited.then((exit) => {
        this.#running.delete(pid);
        this.log.debug({ pid, ...exit }, 'child process exited');
      });
    }
    return { child, exited, started };
  }

  has(pid: number): boolean {
    return this.#running.has(pid);
  }

  get pids(): number[] {
    return [...this.#running.keys()];
  }

  /** TERM then KILL one child we started; false when the pid is not ours. */
  async kill(pid: number, graceMs = 3000): Promise<boolean> {
    const entry = this.#running.get(pid);
    if (!entry) return false;
    await terminate(entry.child, entry.exited, graceMs);
    return true;
  }

  async killAll(graceMs = 3000): Promise<void> {
    await Promise.all([...this.#running.values()].map(({ child, exited }) => terminate(child, exited, graceMs)));
  }
}

async function terminate(child: ChildProcess, exited: Promise<ChildExit>, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), graceMs);
  });
  const outcome = await Promise.race([exited, timedOut]);
  clearTimeout(timer);
  if (outcome === 'timeout') {
    child.kill('SIGKILL');
    await exited;
  }
}
