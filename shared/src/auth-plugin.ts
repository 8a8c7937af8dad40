import fp from 'fastify-plugin';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { credentialsOfRequest, type Authenticator, type CallerCredentials, type Principal } from './auth.js';
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
  return credentialsOfRequest(request.raw);
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
