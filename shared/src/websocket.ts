import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { credentialsOfRequest, type Principal } from './auth.js';
import type { AgentServer } from './server.js';

export interface WebSocketOptions {
  /** Largest frame accepted; a larger one closes the socket with 1009. */
  maxPayload: number;
  /** Called with each authenticated socket; its handlers are attached before any frame can arrive. */
  onConnection(socket: WebSocket, request: IncomingMessage, principal: Principal): void;
  /** How long shutdown waits for clients to answer the 1001 close before terminating them. */
  closeWaitMs?: number;
}

/**
 * WebSockets on the agent's HTTP port, behind the kit's auth. A refused caller gets the upgrade and then close 1008
 * `unauthorized`, which a browser can read (an HTTP 401 on the upgrade it could not). On shutdown every client is
 * closed with 1001 and, past closeWaitMs, terminated.
 */
export function serveWebSockets(app: AgentServer, options: WebSocketOptions): WebSocketServer {
  const wss = new WebSocketServer({ noServer: true, maxPayload: options.maxPayload, perMessageDeflate: false });
  const log = app.log.child({ component: 'websocket' });
  let closing = false;

  const onUpgrade = async (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', (err) => log.debug({ err: { message: err.message } }, 'upgrade socket error'));
    const decision = await app.authenticator.authenticate(credentialsOfRequest(request));
    wss.handleUpgrade(request, socket, head, (ws) => {
      ws.on('error', (err) => log.debug({ err: { message: err.message } }, 'websocket error'));
      if (closing) return ws.close(1001, 'server shutting down');
      if (!decision.ok) {
        log.info({ reason: decision.reason }, 'websocket caller refused');
        return ws.close(1008, 'unauthorized');
      }
      options.onConnection(ws, request, decision.principal);
    });
  };
  app.server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => void onUpgrade(request, socket, head));

  app.addHook('preClose', async () => {
    closing = true;
    const gone = [...wss.clients].map(
      (ws) =>
        new Promise<void>((resolve) => {
          if (ws.readyState === ws.CLOSED) return resolve();
          ws.once('close', () => resolve());
          ws.close(1001, 'server shutting down');
        }),
    );
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(gone), new Promise((resolve) => (timer = setTimeout(resolve, options.closeWaitMs ?? 1000)))]);
    clearTimeout(timer);
    for (const ws of wss.clients) ws.terminate();
    wss.close();
  });
  return wss;
}
