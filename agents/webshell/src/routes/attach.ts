import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import type { Logger } from '@desktop-agents/kit';
import type { Terminal, TerminalClient, Terminals } from '../terminals.js';

/** Close codes of our own (4000-4999 are the application's). */
export const CLOSE = { notFound: 4404, replaced: 4000, shellExited: 1000, badPath: 1008 } as const;

const ATTACH_PATH = /^\/terminals\/(\d+)$/;

function clientFor(socket: WebSocket): TerminalClient {
  return {
    write: (data, flushed) => socket.send(data, () => flushed()),
    replaced: () => socket.close(CLOSE.replaced, 'attached elsewhere'),
    // the exit code goes in the reason, as text, so the page can show it
    exited: (exitCode, signal) => socket.close(CLOSE.shellExited, signal ? `exit ${exitCode} signal ${signal}` : `exit ${exitCode}`),
  };
}

/**
 * Keystrokes to the pty. A program that does not read its input (`sleep`, a stopped job) would make node-pty queue
 * every byte typed; past maxPendingInput the socket is paused (TCP pushes back on the browser) and read again once
 * the program has taken the backlog down to a quarter of it.
 */
function attach(terminal: Terminal, socket: WebSocket, maxPendingInput: number): void {
  const client = clientFor(socket);
  let drain: NodeJS.Timeout | undefined;
  const watchBacklog = () => {
    if (drain || terminal.pendingInput <= maxPendingInput) return;
    socket.pause();
    drain = setInterval(() => {
      if (terminal.pendingInput > maxPendingInput / 4 && terminal.alive && socket.readyState === socket.OPEN) return;
      clearInterval(drain);
      drain = undefined;
      socket.resume();
    }, 20);
  };
  socket.on('message', (data) => {
    const text = Array.isArray(data) ? Buffer.concat(data).toString() : Buffer.from(data as Buffer).toString();
    terminal.input(text);
    watchBacklog();
  });
  socket.on('close', () => {
    clearInterval(drain);
    terminal.detach(client);
  });
  terminal.attach(client);
}

/** WebSocket /terminals/:pid — output to the client, client frames to the pty. Unknown pids close with 4404. */
export function attachHandler(terminals: Terminals, log: Logger, maxPendingInput: number) {
  return (socket: WebSocket, request: IncomingMessage): void => {
    const path = (request.url ?? '').split('?')[0] ?? '';
    const match = ATTACH_PATH.exec(path);
    if (!match) {
      socket.close(CLOSE.badPath, 'not a terminal path');
      return;
    }
    const terminal = terminals.get(Number(match[1]));
    if (!terminal || !terminal.alive) {
      log.info({ pid: Number(match[1]) }, 'attach to an unknown terminal');
      socket.close(CLOSE.notFound, 'Pid not found');
      return;
    }
    attach(terminal, socket, maxPendingInput);
  };
}
