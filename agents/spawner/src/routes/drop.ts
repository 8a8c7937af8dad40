import { dataReply, replies, type RoutesPlugin } from '@desktop-agents/kit';
import { ERRORS } from '../errors.js';
import type { FileDrop } from '../file-drop.js';
import { DropRefused } from '../xdnd.js';

const dropBody = {
  type: 'object',
  required: ['path', 'x', 'y'],
  additionalProperties: false,
  properties: {
    path: { type: 'string', minLength: 1, maxLength: 4096 },
    x: { type: 'integer', minimum: 0, maximum: 32767 },
    y: { type: 'integer', minimum: 0, maximum: 32767 },
  },
} as const;

const DROPPED = { type: 'object', properties: { window: { type: 'integer' }, finished: { type: 'boolean' } } } as const;

/** POST /spawner/drop { path, x, y }: the file panel's "open in the app under..." (ours). */
export function dropRoutes(drops: FileDrop): RoutesPlugin {
  return async (app) => {
    app.post('/drop', { schema: { body: dropBody, response: replies(dataReply(DROPPED), { validated: true }) } }, async (request) => {
      const result = await drops.drop(request.body).catch((err: unknown) => {
        throw err instanceof DropRefused ? ERRORS.DROP_REFUSED(err.message) : err;
      });
      return { code: 200, data: result };
    });
  };
}
