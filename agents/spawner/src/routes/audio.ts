import { dataReply, objectReply, replies, type BusClient, type RoutesPlugin } from '@desktop-agents/kit';
import { ERRORS } from '../errors.js';
import { PulseControl } from '../pulse-control.js';

const sinkBody = {
  type: 'object',
  required: ['sink'],
  properties: {
    sink: {
      type: 'string',
      pattern: '^[A-Za-z0-9_.-]{1,64}$',
      messages: { required: 'No sink provided', type: 'Sink must be a string', pattern: 'Sink must be a sink name' },
    },
  },
} as const;

const rtpBody = {
  type: 'object',
  required: ['destinationIp', 'port'],
  properties: {
    destinationIp: {
      type: 'string',
      format: 'ipv4',
      messages: { required: 'No destinationIp provided', type: 'destinationIp must be a string', format: 'destinationIp must be an ipV4 address' },
    },
    port: { type: 'integer', minimum: 1, maximum: 65535, messages: { required: 'No port provided', default: 'port must be a number' } },
  },
} as const;

/**
 * The spawner's PulseAudio routes, with pactl as argv only: the default sink, the RTP sender of the Janus path
 * (only to the destination the control plane configured, and idempotent), and pulse's availability.
 */
export function audioRoutes(
  settings: { pulseServer: string; pulseCookie: string | undefined; rtpDestination: string | undefined },
  bus: Pick<BusClient, 'publish'>,
): RoutesPlugin {
  const pulse = new PulseControl(settings.pulseServer, settings.pulseCookie);
  return async (app) => {
    app.post('/setAudioQuality', { schema: { body: sinkBody, response: replies(dataReply(objectReply), { validated: true }) } }, async (request) => ({
      code: 200,
      data: { command: 'pactl', args: await pulse.setDefaultSink(request.body.sink) },
    }));

    app.put('/configurePulse', { schema: { body: rtpBody, response: replies(dataReply(objectReply), { validated: true }) } }, async (request) => {
      // only to the destination the control plane configured
      if (!settings.rtpDestination) throw ERRORS.NO_RTP_DESTINATION();
      if (`${request.body.destinationIp}:${request.body.port}` !== settings.rtpDestination) throw ERRORS.RTP_DESTINATION_REFUSED();
      await pulse.sendRtp(request.body.destinationIp, request.body.port);
      bus.publish('speaker.available', true);
      return { code: 200, data: { pulseAudioIsConfigured: true, pulseAudioIsAvailable: await pulse.available() } };
    });

    app.get(
      '/isPulseAvailable',
      { schema: { response: replies({ type: 'object', properties: { status: { type: 'integer' }, message: { type: 'string' } } }) } },
      async () => ((await pulse.available()) ? { status: 200, message: 'OK' } : { status: 500, message: 'error' }),
    );

    app.get('/getPulseInfo', { schema: { response: replies(dataReply(objectReply)) } }, async () => ({ code: 200, data: await pulse.info() }));
  };
}
