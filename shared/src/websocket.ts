import type { IncomingMessage, Server } from 'node:http';
import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { guardedHttpServer } from './connections.js';
import { credentialsOfRequest, type Principal } from './auth.js';
import type { AgentServer } from './server.js';

export interface WebSocketOptions {
  /** Largest frame accepted; a larger one closes the socket with 1009. */
  maxPayload: number;
  /** Called with each authenticated socket; its handlers are attached before any frame can arrive. */
  onConnection(socket: WebSocket, request: IncomingMessage, principal: Principal): void;
  /** How long shutdown waits for clients to answer the 1001 close before terminating them. */
  closeWaitMs?: number;
  /** A ping to every client this often; one that has not answered the previous ping is terminated. */
  heartbeatMs: number;
}

/** Pings every client; terminates those that did not answer the last ping (dead peers, lost networks). */
function heartbeat(wss: WebSocketServer, everyMs: number, log: { info(obj: object, msg: string): void }): NodeJS.Timeout {
  const alive = new WeakSet<WebSocket>();
  wss.on('connection', (ws) => {
    alive.add(ws);
    ws.on('pong', () => alive.add(ws));
  });
  const timer = setInterval(() => {
    for (const ws of wss.clients) {
      if (!alive.has(ws)) {
        log.info({ heartbeatMs: everyMs }, 'no pong, dropping client');
        ws.terminate();
        continue;
      }
      alive.delete(ws);
      ws.ping();
    }
  }, everyMs);
  timer.unref();
  return timer;
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
  const beat = heartbeat(wss, options.heartbeatMs, log);

  /**
   * A refused socket gets its close frame and then the TCP connection ends at once (the close handshake would keep
   * it open up to 30 s, and a flood of refused sockets would hold descriptors); destroyed if the peer stalls.
   */
  const refuse = (ws: WebSocket, socket: Duplex, code: number, reason: string) => {
    ws.close(code, reason);
    socket.end();
    setTimeout(() => socket.destroy(), 1000).unref();
  };

  const onUpgrade = async (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', (err) => log.debug({ err: { message: err.message } }, 'upgrade socket error'));
    // small frames (audio packets, keystrokes, bus events) leave at once instead of waiting out Nagle's algorithm
    if (socket instanceof Socket) socket.setNoDelay(true);
    const origin = await app.origins.check({ headers: request.headers, remoteAddress: request.socket.remoteAddress });
    const decision = origin.ok ? await app.authenticator.authenticate(credentialsOfRequest(request, true)) : undefined;
    if (socket.destroyed) return;
    wss.handleUpgrade(request, socket, head, (ws) => {
      ws.on('error', (err) => log.debug({ err: { message: err.message } }, 'websocket error'));
      if (closing) return refuse(ws, socket, 1001, 'server shutting down');
      if (!origin.ok) {
        log.info({ reason: origin.reason, origin: request.headers.origin, admit: origin.admit }, 'websocket from a foreign origin refused');
        return refuse(ws, socket, 1008, 'origin not allowed');
      }
      if (!decision?.ok) {
        log.info({ reason: decision?.reason }, 'websocket caller refused');
        return refuse(ws, socket, 1008, 'unauthorized');
      }
      wss.emit('connection', ws, request);
      options.onConnection(ws, request, decision.principal);
    });
  };
  app.server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    // whatever an upgrade handler throws (a malformed request, a failing check) costs that socket, never the process
    onUpgrade(request, socket, head).catch((err: unknown) => {
      log.warn({ err: err instanceof Error ? { message: err.message } : { message: String(err) } }, 'websocket upgrade failed');
      socket.destroy();
    });
  });

  app.addHook('preClose', async () => {
    closing = true;
    clearInterval(beat);
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

export interface UpgradePortOptions {
  port: number;
  host: string;
  /** The path on the agent's own port that this port's upgrades are served as (its query string kept). */
  path: string;
}

/**
 * A port of its own for one WebSocket endpoint (abcdesktop 4.x reaches the speaker and the microphone on their own
 * ports, whatever the path): its upgrades go through the agent's origin check, auth and handlers as `path` on the
 * agent's port would. A plain request gets 426 with a JSON reason. Listens when the agent starts (a port in use
 * stops the start); closed with the agent.
 */
export function serveUpgradesOnPort(app: AgentServer, options: UpgradePortOptions): Server {
  const server = guardedHttpServer(app.socketRules, app.log.child({ component: 'connections', port: options.port }), (request, response) => {
    response.writeHead(426, { 'content-type': 'application/json; charset=utf-8', connection: 'close', upgrade: 'websocket' });
    response.end(JSON.stringify({ code: 426, data: `only WebSocket upgrades are served on port ${options.port}` }));
  });
  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const query = (request.url ?? '').split('?')[1];
    request.url = query === undefined ? options.path : `${options.path}?${query}`;
    app.server.emit('upgrade', request, socket, head);
  });
  server.on('clientError', (_err, socket) => socket.destroy());
  app.addHook('onReady', async () => {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    app.log.info({ port: options.port, path: options.path }, 'upgrades served on a port of their own');
  });
  app.addHook('onClose', async () => {
    if (!server.listening) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  });
  return server;
}
