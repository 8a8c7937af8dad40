import type { FastifyPluginAsync } from 'fastify';
import type { CupsClient } from '../ipp.js';

const jobParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'integer', minimum: 1, messages: { default: 'Job id must be a positive number' } } },
} as const;

/** The queue's state and jobs from cupsd over IPP; 503 with the reason when cupsd does not answer. */
export function printerRoutes(cups: CupsClient): FastifyPluginAsync {
  return async (app) => {
    app.get('/printer/status', async () => ({ code: 200, data: await cups.status() }));
    app.get('/printer/jobs', async () => ({ code: 200, data: await cups.jobs() }));
    app.delete<{ Params: { id: number } }>('/printer/jobs/:id', { schema: { params: jobParams } }, async (request) => {
      await cups.cancel(request.params.id);
      return { code: 200, data: 'ok' };
    });
  };
}
