import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** A port nobody listens on right now (the kernel's pick). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** A private folder under the system temp dir, removed by the returned function. */
export async function makeRunDir(prefix: string): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), `da-${prefix}-`));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Polls until check resolves truthy; fails with what and the last error after timeoutMs. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 10_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value) return value;
    } catch (err) {
      last = err;
    }
    await sleep(everyMs);
  }
  const detail = last instanceof Error ? `: ${last.message}` : '';
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail}`);
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A daemon started by a test: its output is kept (bounded) for error messages, and stop() never leaves it running. */
export class ManagedProcess {
  readonly exited: Promise<Exit>;
  #output = '';

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
    keepChars = 256 * 1024,
  ) {
    const keep = (chunk: Buffer) => {
      this.#output += chunk.toString();
      if (this.#output.length > keepChars) this.#output = this.#output.slice(-keepChars);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => resolve({ code, signal }));
      child.once('error', (err) => {
        this.#output += `\n${err.message}`;
        resolve({ code: null, signal: null });
      });
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get output(): string {
    return this.#output;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** SIGTERM, then SIGKILL after graceMs. Resolves with how it ended. */
  async stop(graceMs = 5000): Promise<Exit> {
    if (!this.running) return this.exited;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    const exit = await this.exited;
    clearTimeout(timer);
    return exit;
  }

  /** Rejects if the process dies before `promise` settles, with its output in the message. */
  async aliveWhile<T>(promise: Promise<T>): Promise<T> {
    const died = this.exited.then((exit) => {
      throw new Error(`${this.name} exited early (code ${exit.code}, signal ${exit.signal}):\n${this.#output}`);
    });
    return Promise.race([promise, died]);
  }
}

export function startProcess(name: string, command: string, args: string[], options: SpawnOptions = {}, keepChars?: number): ManagedProcess {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options, shell: false });
  return new ManagedProcess(name, child, keepChars);
}

/** Runs a command to completion (argv only) and returns its output; rejects on a non-zero exit. */
export async function run(command: string, args: string[], options: SpawnOptions = {}, timeoutMs = 15_000): Promise<string> {
  const proc = startProcess(command, command, args, options, 8 * 1024 * 1024);
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), timeoutMs);
  const exit = await proc.exited;
  clearTimeout(timer);
  if (exit.code !== 0) throw new Error(`${command} ${args.join(' ')} failed (code ${exit.code}, signal ${exit.signal}):\n${proc.output}`);
  return proc.output;
}
