import { dataReply, objectReply, okReply, replies, type BusClient, type RoutesPlugin } from '@desktop-agents/kit';
import type { Launcher } from '../launcher.js';
import { ERRORS } from '../errors.js';

const launchBody = {
  type: 'object',
  required: ['command'],
  properties: {
    command: { type: 'string', messages: { required: 'No command provided', type: 'Command must be a string' } },
    args: {
      type: 'array',
      minItems: 1,
      items: { type: 'string' },
      messages: { null: 'No args provided', default: 'Args must be an array of string not empty' },
    },
  },
} as const;

const killBody = {
  type: 'object',
  required: ['pid'],
  properties: { pid: { type: 'integer', minimum: 1, messages: { required: 'No pid provided', default: 'Pid must be a positive number' } } },
} as const;

export function launchRoutes(launcher: Launcher, bus: Pick<BusClient, 'publish'>): RoutesPlugin {
  return async (app) => {
    app.post(
      '/launch',
      {
        schema: {
          body: launchBody,
          response: replies(
            { ...dataReply(objectReply), properties: { code: { type: 'integer' }, data: objectReply, proc: objectReply } },
            { validated: true },
          ),
        },
      },
      async (request) => {
        const language = request.headers['accept-language'];
        const started = await launcher.launch(request.body.command, request.body.args ?? [], typeof language === 'string' ? language : undefined);
        request.log.info({ pid: started.pid, command: started.command }, 'launched');
        bus.publish('proc.started', { pid: started.pid, command: started.command });
        return { code: 200, data: { command: started.command, args: started.args }, proc: { pid: started.pid, command: started.command, args: started.args } };
      },
    );

    app.post('/kill', { schema: { body: killBody, response: replies(okReply, { validated: true }) } }, async (request) => {
      if (!(await launcher.kill(request.body.pid))) throw ERRORS.PID_NOT_FOUND();
      return { code: 200, data: 'ok' };
    });
  };
}
