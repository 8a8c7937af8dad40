import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { CommonConfig } from './config.js';

export type ConnectionLimits = Pick<CommonConfig, 'MAX_CONNECTIONS' | 'MAX_CONNECTIONS_PER_ADDRESS'>;

/**
 * Caps the TCP connections of an agent's port, in all (the kernel-level `maxConnections`) and per source address, so
 * that one peer opening sockets (refused WebSockets, slow heads) cannot exhaust file descriptors or memory. A
 * connection over a cap is destroyed as it arrives, before any byte is parsed.
 */
export function limitConnections(server: Server, limits: ConnectionLimits, log: Logger): { open(address: string): number } {
  server.maxConnections = limits.MAX_CONNECTIONS;
  const perAddress = new Map<string, number>();
  let warned = 0;
  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? '';
    const count = (perAddress.get(address) ?? 0) + 1;
    if (count > limits.MAX_CONNECTIONS_PER_ADDRESS) {
      // one line a second at most: a flood must not flood the log too
      if (Date.now() - warned > 1000) {
        warned = Date.now();
        log.warn({ address, limit: limits.MAX_CONNECTIONS_PER_ADDRESS }, 'too many connections from one address, refusing');
      }
      socket.destroy();
      return;
    }
    perAddress.set(address, count);
    socket.once('close', () => {
      const left = (perAddress.get(address) ?? 1) - 1;
      if (left <= 0) perAddress.delete(address);
      else perAddress.set(address, left);
    });
  });
  return { open: (address) => perAddress.get(address) ?? 0 };
}
