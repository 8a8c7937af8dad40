import fp from 'fastify-plugin';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { Authenticator, CallerCredentials, Principal } from './auth.js';
import { PROBE_PATHS } from './health.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
  interface FastifyInstance {
    authenticator: Authenticator;
  }
  interface FastifyContextConfig {
    /** Route served without credentials (the terminal page's static files, say). */
    public?: boolean;
  }
}

export function credentialsOf(request: FastifyRequest): CallerCredentials {
  const q = request.raw.url?.indexOf('?') ?? -1;
  return {
    headers: request.headers,
    query: q >= 0 ? (request.raw.url ?? '').slice(q + 1) : '',
    remoteAddress: request.socket.remoteAddress,
  };
}

const plugin: FastifyPluginAsync<{ authenticator: Authenticator }> = async (app, { authenticator }) => {
  app.decorate('authenticator', authenticator);
  app.decorateRequest('principal', null);
  app.addHook('onRequest', async (request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    if (PROBE_PATHS.has(path) || request.routeOptions.config.public) return;
    const decision = await authenticator.authenticate(credentialsOf(request));
    if (!decision.ok) {
      request.log.info({ reason: decision.reason }, 'caller rejected');
      return reply.code(401).header('www-authenticate', 'Bearer').send({ code: 401, data: 'Unauthorized' });
    }
    request.principal = decision.principal;
  });
};

export const authPlugin = fp(plugin, { fastify: '5.x', name: 'agent-auth' });
