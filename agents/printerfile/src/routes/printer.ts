import type { CupsClient } from '../ipp.js';
import { dataReply, objectReply, okReply, replies, type RoutesPlugin } from '@desktop-agents/kit';

const jobParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'integer', minimum: 1, messages: { default: 'Job id must be a positive number' } } },
} as const;

/** The queue's state and jobs from cupsd over IPP; 503 with the reason when cupsd does not answer. */
export function printerRoutes(cups: CupsClient): RoutesPlugin {
  return async (app) => {
    app.get('/printer/status', { schema: { response: replies(dataReply(objectReply)) } }, async () => ({ code: 200, data: await cups.status() }));
    app.get('/printer/jobs', { schema: { response: replies(dataReply({ type: 'array', items: objectReply })) } }, async () => ({
      code: 200,
      data: await cups.jobs(),
    }));
    app.delete('/printer/jobs/:id', { schema: { params: jobParams, response: replies(okReply, { validated: true }) } }, async (request) => {
      await cups.cancel(request.params.id);
      return { code: 200, data: 'ok' };
    });
  };
}
