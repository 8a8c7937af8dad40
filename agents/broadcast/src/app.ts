import { createServer, serveWebSockets, type AgentContext, type AgentConfig } from '@desktop-agents/kit';
import { Bus } from './bus.js';
import type { BroadcastEnv } from './config.js';

export type BroadcastConfig = AgentConfig<typeof BroadcastEnv>;

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
    security: config,
    logger,
    authenticator,
    readiness: async () => {
      if (!bus.accepting || !app.server.listening) throw new Error('bus is not accepting clients');
    },
  });
  // first: the bus stops counting before the clients are closed
  app.addHook('preClose', async () => bus.close());
  // any path: browsers use /broadcast?jwt_token=..., agents the root
  serveWebSockets(app, {
    maxPayload: config.BROADCAST_MAX_FRAME_BYTES,
    onConnection: (socket, _request, principal) => bus.join(socket, principal.kind === 'local'),
  });
  app.get('/stats', async () => bus.stats());
  return app;
}
