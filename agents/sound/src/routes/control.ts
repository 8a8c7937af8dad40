import type { Pulse } from '../pulse.js';
import type { AudioListeners } from '../listeners.js';
import type { Microphone } from '../microphone.js';
import type { MpegTsSpeaker } from '../speaker-ts.js';
import { ERRORS } from '../errors.js';
import { dataReply, objectReply, okReply, replies, type RoutesPlugin } from '@desktop-agents/kit';

const sinkParams = { type: 'object', required: ['name'], properties: { name: { type: 'string', minLength: 1, maxLength: 256 } } } as const;
const volumeBody = {
  type: 'object',
  required: ['volume'],
  properties: {
    volume: {
      type: 'number',
      minimum: 0,
      maximum: 150,
      messages: { required: 'No volume provided', default: 'Volume must be a number from 0 to 150 (percent)' },
    },
  },
} as const;
const muteBody = {
  type: 'object',
  required: ['mute'],
  properties: { mute: { type: 'boolean', messages: { required: 'No mute provided', default: 'Mute must be a boolean' } } },
} as const;

export interface AudioStreams {
  listeners: AudioListeners;
  microphone: Microphone;
  speaker: MpegTsSpeaker;
}

export function controlRoutes(pulse: Pulse, { listeners, microphone, speaker }: AudioStreams): RoutesPlugin {
  return async (app) => {
    app.get('/sound/status', { schema: { response: replies(dataReply(objectReply)) } }, async () => ({
      code: 200,
      data: {
        ...(await pulse.serverInfo()),
        listeners: listeners.count,
        opusListeners: listeners.opusCount,
        droppedBytes: listeners.dropped,
        speakerTsListeners: speaker.count,
        speakerTsEncoder: speaker.encoderPid !== undefined,
        microphoneTalking: microphone.talking,
        microphoneDroppedBytes: microphone.dropped,
      },
    }));
    app.get('/sound/sinks', { schema: { response: replies(dataReply({ type: 'array', items: objectReply })) } }, async () => ({
      code: 200,
      data: await pulse.sinks(),
    }));
    app.get('/sound/sources', { schema: { response: replies(dataReply({ type: 'array', items: objectReply })) } }, async () => ({
      code: 200,
      data: await pulse.sources(),
    }));

    const known = async (name: string) => {
      if (!(await pulse.sinks()).some((s) => s.name === name)) throw ERRORS.UNKNOWN_SINK(name);
    };
    app.put(
      '/sound/sinks/:name/volume',
      { schema: { params: sinkParams, body: volumeBody, response: replies(okReply, { validated: true }) } },
      async (request) => {
        await known(request.params.name);
        await pulse.setVolume(request.params.name, request.body.volume);
        return { code: 200, data: 'ok' };
      },
    );
    app.put('/sound/sinks/:name/mute', { schema: { params: sinkParams, body: muteBody, response: replies(okReply, { validated: true }) } }, async (request) => {
      await known(request.params.name);
      await pulse.setMute(request.params.name, request.body.mute);
      return { code: 200, data: 'ok' };
    });
  };
}
