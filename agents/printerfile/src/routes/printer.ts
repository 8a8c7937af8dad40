import type { FastifyPluginAsync } from 'fastify';
import { HttpError } from '@desktop-agents/kit';
import { CupsUnreachable, type CupsClient } from '../ipp.js';

async function ask<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof CupsUnreachable) throw new HttpError(503, err.message);
    throw err;
  }
}

const jobParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'integer', minimum: 1, messages: { default: 'Job id must be a positive number' } } },
} as const;

/** The queue's state and jobs from cupsd over IPP; 503 with the reason when cupsd does not answer. */
export function printerRoutes(cups: CupsClient): FastifyPluginAsync {
  return async (app) => {
    app.get('/printer/status', async () => ({ code: 200, data: await ask(() => cups.status()) }));
    app.get('/printer/jobs', async () => ({ code: 200, data: await ask(() => cups.jobs()) }));
    app.delete<{ Params: { id: number } }>('/printer/jobs/:id', { schema: { params: jobParams } }, async (request) => {
      await ask(() => cups.cancel(request.params.id));
      return { code: 200, data: 'ok' };
    });
  };
}
