import {
  BUS_ACCEPT_HEADER,
  createServer,
  offerBusInProcess,
  replies,
  serverOptionsOf,
  serveWebSockets,
  type AgentContext,
  type AgentConfig,
} from '@desktop-agents/kit';
import { Bus } from './bus.js';
import type { BroadcastEnv } from './config.js';

export type BroadcastConfig = AgentConfig<typeof BroadcastEnv>;

/** What a client says it takes (BusClient sends it), or no bound when it says nothing usable. */
function acceptedFrameBytes(header: string | string[] | undefined): number {
  const value = Number(Array.isArray(header) ? header[0] : header);
  return Number.isInteger(value) && value > 0 ? value : Number.POSITIVE_INFINITY;
}

export async function buildBroadcast(context: AgentContext<BroadcastConfig>) {
  const { config, logger } = context;
  const bus = new Bus(
    {
      keepaliveMs: config.BROADCAST_KEEPALIVE_MS,
      stallCheckMs: Math.min(config.BROADCAST_HEARTBEAT_MS, config.BROADCAST_STALL_TIMEOUT_MS),
      maxBufferedBytes: config.BROADCAST_MAX_BUFFERED_BYTES,
      stallTimeoutMs: config.BROADCAST_STALL_TIMEOUT_MS,
      secrets: [config.AUTH_TOKEN, config.BROADCAST_COOKIE],
      cost: { maxKeys: config.BROADCAST_MAX_FRAME_KEYS, maxDepth: config.BROADCAST_MAX_FRAME_DEPTH, maxArrayLength: config.BROADCAST_MAX_ARRAY_LENGTH },
    },
    logger.child({ component: 'bus' }),
  );
  const app = await createServer({
    ...serverOptionsOf(context),
    readiness: async () => {
      if (!bus.accepting || !app.server.listening) throw new Error('bus is not accepting clients');
    },
  });
  // the agents of this process (npm run agents) join without a loopback WebSocket
  const withdraw = offerBusInProcess(config.BROADCAST_SERVICE_TCP_PORT, (socket, maxFrameBytes) => bus.join(socket, true, maxFrameBytes));
  // first: the bus stops counting before the clients are closed
  app.addHook('preClose', async () => {
    withdraw();
    bus.close();
  });
  // any path: browsers use /broadcast?jwt_token=..., agents the root
  serveWebSockets(app, {
    maxPayload: config.BROADCAST_MAX_FRAME_BYTES,
    heartbeatMs: config.BROADCAST_HEARTBEAT_MS,
    onConnection: (socket, request, principal) => bus.join(socket, principal.kind === 'local', acceptedFrameBytes(request.headers[BUS_ACCEPT_HEADER])),
  });
  app.get(
    '/stats',
    {
      schema: {
        response: replies({
          type: 'object',
          properties: { browsers: { type: 'integer' }, locals: { type: 'integer' }, shed: { type: 'integer' }, dropped: { type: 'integer' } },
        }),
      },
    },
    async () => bus.stats(),
  );
  app.metrics.define({
    name: 'broadcast_clients',
    help: 'clients connected to the bus',
    type: 'gauge',
    labelNames: ['kind'],
    read: () => {
      const { browsers, locals } = bus.stats();
      return [
        { labels: { kind: 'browser' }, value: browsers },
        { labels: { kind: 'local' }, value: locals },
      ];
    },
  });
  app.metrics.define({
    name: 'broadcast_frames_shed_total',
    help: 'frames not sent to a client over its send bound',
    type: 'counter',
    read: () => bus.stats().shed,
  });
  app.metrics.define({
    name: 'broadcast_clients_dropped_total',
    help: 'clients disconnected for staying over the send bound',
    type: 'counter',
    read: () => bus.stats().dropped,
  });
  return app;
}
