import { execFile } from 'node:child_process';
import type { FastifyPluginAsync } from 'fastify';
import { childEnv, type BusClient } from '@desktop-agents/kit';
import { ERRORS } from '../errors.js';

/** pactl with an argument array against the pod's PulseAudio. */
function pactl(server: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile('pactl', args, { env: childEnv({ PULSE_SERVER: server }), timeout: 5000 }, (err, stdout, stderr) => (err ? reject(new Error(stderr.trim() || err.message)) : resolve(stdout))),
  );
}

const sinkBody = {
  type: 'object',
  required: ['sink'],
  properties: { sink: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,64}$', messages: { required: 'No sink provided', type: 'Sink must be a string', pattern: 'Sink must be a sink name' } } },
} as const;

const rtpBody = {
  type: 'object',
  required: ['destinationIp', 'port'],
  properties: {
    destinationIp: { type: 'string', format: 'ipv4', messages: { required: 'No destinationIp provided', type: 'destinationIp must be a string', format: 'destinationIp must be an ipV4 address' } },
    port: { type: 'integer', minimum: 1, maximum: 65535, messages: { required: 'No port provided', default: 'port must be a number' } },
  },
} as const;

/**
 * The spawner's PulseAudio routes, with pactl as argv only: the default sink, the RTP sender of the Janus path
 * (only to the destination the control plane configured, and idempotent), and pulse's availability.
 */
export function audioRoutes(settings: { pulseServer: string; rtpDestination: string | undefined }, bus: Pick<BusClient, 'publish'>): FastifyPluginAsync {
  const server = settings.pulseServer;
  const available = () => pactl(server, ['info']).then(() => true, () => false);
  return async (app) => {
    app.post<{ Body: { sink: string } }>('/setAudioQuality', { schema: { body: sinkBody } }, async (request) => {
      const args = ['set-default-sink', request.body.sink];
      const sinks = await pactl(server, ['list', 'short', 'sinks']).catch(() => {
        throw ERRORS.PULSE_UNREACHABLE();
      });
      if (!sinks.split('\n').some((line) => line.split('\t')[1] === request.body.sink)) throw ERRORS.UNKNOWN_SINK(request.body.sink);
      await pactl(server, args);
      return { code: 200, data: { command: 'pactl', args } };
    });

    app.put<{ Body: { destinationIp: string; port: number } }>('/configurePulse', { schema: { body: rtpBody } }, async (request) => {
      const wanted = `${request.body.destinationIp}:${request.body.port}`;
      if (!settings.rtpDestination) throw ERRORS.NO_RTP_DESTINATION();
      if (wanted !== settings.rtpDestination) throw ERRORS.RTP_DESTINATION_REFUSED();
      const modules = await pactl(server, ['list', 'short', 'modules']);
      for (const line of modules.split('\n')) {
        const [index, name] = line.split('\t');
        if (name === 'module-rtp-send' && index) await pactl(server, ['unload-module', index]);
      }
      const sinks = await pactl(server, ['list', 'short', 'sinks']);
      if (!sinks.split('\n').some((line) => line.split('\t')[1] === 'rtp')) {
        await pactl(server, ['load-module', 'module-null-sink', 'sink_name=rtp', 'format=alaw', 'rate=8000', 'channels=1']);
      }
      // Debian's pulseaudio sends RTP through GStreamer, which takes L16 only: no A-law as in abcdesktop's image
      await pactl(server, ['load-module', 'module-rtp-send', 'source=rtp.monitor', `destination_ip=${request.body.destinationIp}`, `port=${request.body.port}`]);
      await pactl(server, ['set-default-sink', 'rtp']);
      bus.publish('speaker.available', true);
      return { code: 200, data: { pulseAudioIsConfigured: true, pulseAudioIsAvailable: await available() } };
    });

    app.get('/isPulseAvailable', async () => ((await available()) ? { status: 200, message: 'OK' } : { status: 500, message: 'error' }));

    app.get('/getPulseInfo', async () => {
      const info = await pactl(server, ['info']).catch(() => {
        throw ERRORS.PULSE_UNREACHABLE();
      });
      const field = (name: string) => new RegExp(`^${name}: (.*)$`, 'm').exec(info)?.[1] ?? '';
      return { code: 200, data: { serverName: field('Server Name'), serverVersion: field('Server Version'), defaultSink: field('Default Sink'), defaultSource: field('Default Source') } };
    });
  };
}
