import { createReadStream } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { connectBus, createServer, serverOptionsOf, textReply, serveWebSockets, type AgentConfig, type AgentContext } from '@desktop-agents/kit';
import { cookieOf, rtpDestination, socketPath, type SoundEnv } from './config.js';
import { AudioListeners } from './listeners.js';
import { Pulse } from './pulse.js';
import { controlRoutes } from './routes/control.js';

export type SoundConfig = AgentConfig<typeof SoundEnv>;

export async function buildSound(context: AgentContext<SoundConfig>) {
  const { config, logger } = context;
  const pulse = new Pulse(
    {
      socket: socketPath(config.PULSE_SERVER),
      cookie: cookieOf(config.PULSEAUDIO_COOKIE),
      sink: config.SOUND_SINK,
      rate: config.SOUND_RATE,
      channels: config.SOUND_CHANNELS,
      rtp: rtpDestination(config.SOUND_RTP_DESTINATION),
    },
    logger.child({ component: 'pulse' }),
  );
  const listeners = new AudioListeners(
    { format: 's16le', rate: config.SOUND_RATE, channels: config.SOUND_CHANNELS },
    config.SOUND_MAX_BUFFERED_BYTES,
    config.SOUND_MAX_LISTENERS,
    logger.child({ component: 'listeners' }),
  );
  const bus = connectBus(config, logger);

  pulse.on('audio', (chunk) => listeners.push(chunk));
  pulse.on('up', () => bus.publish('speaker.available', true));
  pulse.on('down', () => bus.publish('speaker.available', false));
  bus.on('open', () => bus.publish('speaker.available', pulse.up));

  const app = await createServer({ ...serverOptionsOf(context), readiness: async () => void (await pulse.serverInfo()) });
  // the spec's path (the original proxy rule) and a plain one; only the desktop sink's monitor is served
  const listenPaths = new Set([`/listen/source/${config.SOUND_SINK}.monitor`, '/sound/listen']);
  serveWebSockets(app, {
    maxPayload: 1024,
    heartbeatMs: config.WS_HEARTBEAT_MS,
    onConnection: (socket, request) => {
      const path = (request.url ?? '').split('?')[0] ?? '';
      if (!listenPaths.has(path)) return socket.close(4404, 'no such audio source');
      listeners.add(socket);
    },
  });
  await app.register(controlRoutes(pulse, listeners));
  app.metrics.define({ name: 'sound_listeners', help: 'live audio listeners connected', type: 'gauge', read: () => listeners.count });
  app.metrics.define({
    name: 'sound_audio_dropped_bytes_total',
    help: 'audio bytes not sent to listeners that were behind',
    type: 'counter',
    read: () => listeners.dropped,
  });
  const page = fileURLToPath(new URL('../public/listen.html', import.meta.url));
  app.get('/sound/', { config: { public: true }, schema: { response: { 200: textReply } } }, async (_request, reply) =>
    reply.type('text/html; charset=utf-8').send(createReadStream(page)),
  );

  pulse.start();
  app.addHook('onClose', async () => {
    await pulse.close();
    await bus.close();
  });
  return app;
}
