import { spawn } from 'node:child_process';
import { join } from 'node:path';
import WebSocket from 'ws';
import type { RunningAgent } from '@desktop-agents/tools/harness';

/** A frame as the bus sends it. */
export interface Frame {
  method: string;
  data?: unknown;
  [extra: string]: unknown;
}

/** The spawner's env beside a bus on a display, as the tests of its desktop integration start it (`extra` on top). */
export function spawnerEnv(
  session: { token: string; cookie: string; bus: RunningAgent; display: string; home: string },
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    AUTH_TOKEN: session.token,
    BROADCAST_COOKIE: session.cookie,
    BROADCAST_SERVICE_TCP_PORT: String(session.bus.port),
    DISPLAY: session.display,
    HOME: session.home,
    SPAWNER_PID_FILE: join(session.home, 'spawner.pid'),
    SPAWNER_DEFAULT_IMAGE: join(session.home, 'no-default.png'),
    SPAWNER_IDLE_MS: '0',
    ...extra,
  };
}

/** A client of the bus that keeps every frame it got: a browser tab (the token) or another agent (the cookie). */
export class BusTab {
  readonly frames: Frame[] = [];

  private constructor(readonly socket: WebSocket) {
    // listening from the start: a first frame can come with the upgrade's reply
    socket.on('message', (raw: Buffer) => this.frames.push(JSON.parse(raw.toString()) as Frame));
  }

  static async open(bus: RunningAgent, as: { token: string } | { cookie: string }): Promise<BusTab> {
    const socket =
      'token' in as
        ? new WebSocket(`ws://127.0.0.1:${bus.port}/broadcast?jwt_token=${as.token}`, { maxPayload: 64 * 1024 * 1024 })
        : new WebSocket(`ws://127.0.0.1:${bus.port}/`, { headers: { broadcast_cookie: as.cookie } });
    const tab = new BusTab(socket);
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    return tab;
  }

  /** The data of every frame with this method so far. */
  of<T>(method: string): T[] {
    return this.frames.filter((f) => f.method === method).map((f) => f.data as T);
  }

  send(method: string, data: unknown): void {
    this.socket.send(JSON.stringify({ method, data }));
  }

  close(): void {
    this.socket.terminate();
  }
}

/** A program left running (notify-send waiting for an action, say): resolves with its exit code and what it printed. */
export function runInBackground(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string }> {
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'ignore'] });
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout })));
}
