import type { FastifyReply, FastifyRequest } from 'fastify';
// the schema's `hide` (routes left out of the OpenAPI description) is @fastify/swagger's
import type {} from '@fastify/swagger';
import { callerOf, type RoutesPlugin } from '@desktop-agents/kit';
import { CALLER_HEADER, type ResumableUploads } from '../resumable.js';
import { forbidden, type RouteContext } from './common.js';

/** PREFIX/uploads: tus 1.0 resumable uploads, handed to the tus server with who is calling (for the audit). */
export function resumableRoutes({ prefix, options, stats }: RouteContext, resumable: ResumableUploads): RoutesPlugin {
  const { switches } = options;
  return async (app) => {
    const handle = async (request: FastifyRequest, reply: FastifyReply) => {
      if (!switches.upload) throw forbidden();
      // who is calling, for the audit trail of the tus hooks (a header of the caller's own by that name is dropped)
      request.raw.headers[CALLER_HEADER] = JSON.stringify(callerOf(request));
      reply.hijack();
      const sending = request.method === 'PATCH';
      if (sending) stats.inFlight.upload += 1;
      try {
        await resumable.handle(request.raw, reply.raw);
      } finally {
        if (sending) stats.inFlight.upload -= 1;
      }
    };
    // tus 1.0: its own protocol (headers, 201/204), described by its specification rather than here
    app.all(`${prefix}/uploads`, { schema: { hide: true } }, handle);
    app.all(`${prefix}/uploads/*`, { schema: { hide: true } }, handle);
  };
}
