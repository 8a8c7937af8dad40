import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { createServer, type AgentContext, type AgentConfig, type Authenticator, type Logger } from '@desktop-agents/kit';
import { Bus } from './bus.js';
import type { BroadcastEnv } from './config.js';

export type BroadcastConfig = AgentConfig<typeof BroadcastEnv>;

function credentialsOf(request: IncomingMessage) {
  const url = request.url ?? '';
  const q = url.indexOf('?');
  return { headers: request.headers, query: q >= 0 ? url.slice(q + 1) : '', remoteAddress: request.socket.remoteAddress };
}

/**
 * Upgrades on any path (browsers use /broadcast?jwt_token=..., agents the root) after auth. A refused caller gets the
 * upgrade and then close 1008 with the reason, which a browser can read (an HTTP 401 it could not).
 */
function upgradeHandler(wss: WebSocketServer, bus: Bus, authenticator: Authenticator, log: Logger) {
  return async (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', (err) => log.debug({ err: { message: err.message } }, 'upgrade socket error'));
    const decision = await authenticator.authenticate(credentialsOf(request));
    wss.handleUpgrade(request, socket, head, (ws) => {
      if (!decision.ok) {
        log.info({ reason: decision.reason }, 'bus client refused');
        ws.close(1008, 'unauthorized');
        return;
      }
      bus.join(ws, decision.principal.kind === 'local');
    });
  };
}

export async function buildBroadcast({ config, logger, authenticator }: AgentContext<BroadcastConfig>) {
  const bus = new Bus(
    {
      keepaliveMs: config.BROADCAST_KEEPALIVE_MS,
      heartbeatMs: config.BROADCAST_HEARTBEAT_MS,
      maxBufferedBytes: config.BROADCAST_MAX_BUFFERED_BYTES,
      stallTimeoutMs: config.BROADCAST_STALL_TIMEOUT_MS,
    },
    logger.child({ component: 'bus' }),
  );
  const app = await createServer({
    logger,
    authenticator,
    readiness: async () => {
      if (!bus.accepting || !app.server.listening) throw new Error('bus is not accepting clients');
    },
  });
  const wss = new WebSocketServer({ noServer: true, maxPayload: config.BROADCAST_MAX_FRAME_BYTES, perMessageDeflate: false, clientTracking: false });
  const onUpgrade = upgradeHandler(wss, bus, authenticator, logger.child({ component: 'upgrade' }));
  app.server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => void onUpgrade(request, socket, head));

  app.get('/stats', async () => bus.stats());
  app.addHook('preClose', async () => {
    await bus.close();
    wss.close();
  });
  return app;
}
