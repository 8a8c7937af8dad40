import { fileURLToPath } from 'node:url';
import {
  connectBus,
  createServer,
  serverOptionsOf,
  serveUpgradesOnPort,
  serveWebSockets,
  publicFiles,
  type AgentConfig,
  type AgentContext,
} from '@desktop-agents/kit';
import { cookieOf, socketPath } from '@desktop-agents/kit/audio-server';
import { pulseName, rtpDestination, type SoundEnv } from './config.js';
import { AudioListeners } from './listeners.js';
import { Microphone } from './microphone.js';
import { OPUS_RATE } from './opus.js';
import { Pulse } from './pulse.js';
import { controlRoutes } from './routes/control.js';
import { SharedCapture } from './shared-capture.js';
import { MpegTsSpeaker } from './speaker-ts.js';
import { talkOver } from './talk-socket.js';

export type SoundConfig = AgentConfig<typeof SoundEnv>;

/** The paths of the agent's sockets; the 4.x ports' upgrades are served as the last two. */
const PATHS = { listen: '/sound/listen', microphone: '/sound/microphone', speakerTs: '/sound/speaker.ts', microphone4x: '/sound/microphone.f32' };

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
      microphone: pulseName('SOUND_MICROPHONE_SOURCE', config.SOUND_MICROPHONE_SOURCE),
    },
    logger.child({ component: 'pulse' }),
  );
  // 48 kHz mono, what Opus encodes and ffmpeg reads: captured only while one of them runs
  const capture48k = new SharedCapture(
    () => pulse.capture({ format: 's16le', rate: OPUS_RATE, channels: config.SOUND_CHANNELS }, 10),
    5000,
    logger.child({ component: 'capture' }),
  );
  const listeners = new AudioListeners(
    { format: 's16le', rate: config.SOUND_RATE, channels: config.SOUND_CHANNELS },
    config.SOUND_MAX_BUFFERED_BYTES,
    config.SOUND_MAX_LISTENERS,
    (handler) => capture48k.subscribe(handler),
    logger.child({ component: 'listeners' }),
  );
  const microphone = new Microphone(
    (spec) => pulse.playToMicrophone(spec, 40, 20),
    config.SOUND_MICROPHONE_MAX_QUEUED_MS,
    logger.child({ component: 'microphone' }),
  );
  const bus = connectBus(config, logger);

  pulse.on('audio', (chunk) => listeners.push(chunk));
  pulse.on('up', () => {
    capture48k.restart();
    bus.publish('speaker.available', true);
  });
  pulse.on('down', () => bus.publish('speaker.available', false));
  bus.on('open', () => bus.publish('speaker.available', pulse.up));

  const app = await createServer({ ...serverOptionsOf(context), readiness: async () => void (await pulse.serverInfo()) });
  const speaker = new MpegTsSpeaker(
    { ffmpeg: config.SOUND_FFMPEG, inputRate: OPUS_RATE, maxListeners: config.SOUND_MAX_LISTENERS, maxBufferedBytes: 64 * 1024, lingerMs: 1000 },
    (handler) => capture48k.subscribe(handler),
    app.children,
    logger.child({ component: 'speaker' }),
  );
  // the spec's path (the original proxy rule) and a plain one; only the desktop sink's monitor is served
  const listenPaths = new Set([`/listen/source/${config.SOUND_SINK}.monitor`, PATHS.listen]);
  serveWebSockets(app, {
    // a microphone message: 20 ms of 48 kHz stereo float32 is 7.5 KiB
    maxPayload: 64 * 1024,
    heartbeatMs: config.WS_HEARTBEAT_MS,
    onConnection: (socket, request) => {
      const path = (request.url ?? '').split('?')[0] ?? '';
      if (listenPaths.has(path)) return listeners.add(socket);
      if (path === PATHS.microphone || path === PATHS.microphone4x) return talkOver(socket, microphone);
      if (path === PATHS.speakerTs) return speaker.add(socket);
      socket.close(4404, 'no such audio endpoint');
    },
  });
  if (config.SOUND_SPEAKER_TCP_PORT) serveUpgradesOnPort(app, { port: config.SOUND_SPEAKER_TCP_PORT, host: config.CONTAINER_IP_ADDR, path: PATHS.speakerTs });
  if (config.SOUND_MICROPHONE_TCP_PORT) {
    serveUpgradesOnPort(app, { port: config.SOUND_MICROPHONE_TCP_PORT, host: config.CONTAINER_IP_ADDR, path: PATHS.microphone4x });
  }
  await app.register(controlRoutes(pulse, { listeners, microphone, speaker }));
  app.metrics.define({ name: 'sound_listeners', help: 'live audio listeners connected', type: 'gauge', read: () => listeners.count });
  app.metrics.define({ name: 'sound_opus_listeners', help: 'listeners receiving Opus', type: 'gauge', read: () => listeners.opusCount });
  app.metrics.define({ name: 'sound_speaker_ts_listeners', help: 'abcdesktop 4.x speaker (MPEG-TS) listeners', type: 'gauge', read: () => speaker.count });
  app.metrics.define({
    name: 'sound_microphone_talking',
    help: '1 while a page talks into the microphone',
    type: 'gauge',
    read: () => (microphone.talking ? 1 : 0),
  });
  app.metrics.define({
    name: 'sound_audio_dropped_bytes_total',
    help: 'audio bytes not sent to listeners that were behind',
    type: 'counter',
    read: () => listeners.dropped + speaker.dropped,
  });
  app.metrics.define({
    name: 'sound_microphone_dropped_bytes_total',
    help: 'microphone bytes dropped because they came faster than the source played them',
    type: 'counter',
    read: () => microphone.dropped,
  });
  await app.register(
    publicFiles(fileURLToPath(new URL('../public/', import.meta.url)), {
      '/sound/': 'listen.html',
      '/sound/sound.js': 'sound.js',
      '/sound/sound-worklets.js': 'sound-worklets.js',
    }),
  );

  pulse.start();
  app.addHook('onClose', async () => {
    speaker.close();
    microphone.close();
    capture48k.close();
    await pulse.close();
    await bus.close();
  });
  return app;
}
