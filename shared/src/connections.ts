import { createServer as createHttpServer, type RequestListener, type Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { CommonConfig } from './config.js';

export type ConnectionLimits = Pick<CommonConfig, 'MAX_CONNECTIONS' | 'MAX_CONNECTIONS_PER_ADDRESS'>;

/** Everything the kit bounds on a listening socket: connections, and how long a head, a request and silence may take. */
export type SocketRules = ConnectionLimits &
  Pick<CommonConfig, 'HTTP_HEADERS_TIMEOUT_MS' | 'HTTP_IDLE_TIMEOUT_MS' | 'HTTP_KEEPALIVE_TIMEOUT_MS' | 'HTTP_REQUEST_TIMEOUT_MS'>;

/**
 * Node's HTTP server options for those rules, never Node's defaults: a head must come quickly (checked every second,
 * not every 30 s), a long upload that keeps moving is not cut.
 */
export function httpTimeouts(rules: SocketRules) {
  return {
    headersTimeout: rules.HTTP_HEADERS_TIMEOUT_MS,
    connectionsCheckingInterval: Math.min(1000, rules.HTTP_HEADERS_TIMEOUT_MS),
    requestTimeout: rules.HTTP_REQUEST_TIMEOUT_MS,
    keepAliveTimeout: rules.HTTP_KEEPALIVE_TIMEOUT_MS,
  };
}

/**
 * An HTTP server for any other port an agent opens (abcdesktop 4.x's speaker and microphone ports): the same caps
 * and timeouts as the agent's own port, so a flood of sockets or of unfinished heads holds neither.
 */
export function guardedHttpServer(rules: SocketRules, log: Logger, handler: RequestListener): Server {
  const server = createHttpServer(httpTimeouts(rules), handler);
  // an idle socket is closed (an upgraded one is the WebSocket's: ws clears this timeout)
  server.setTimeout(rules.HTTP_IDLE_TIMEOUT_MS, (socket) => socket.destroy());
  limitConnections(server, rules, log);
  return server;
}

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
