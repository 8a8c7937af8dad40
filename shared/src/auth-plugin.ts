import fp from 'fastify-plugin';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { credentialsOfRequest, type Authenticator, type CallerCredentials, type Principal } from './auth.js';
import { PROBE_PATHS } from './health.js';
import type { OriginPolicy } from './origin.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
  interface FastifyInstance {
    authenticator: Authenticator;
    origins: OriginPolicy;
  }
  interface FastifyContextConfig {
    /** Route served without credentials (the terminal page's static files, say). */
    public?: boolean;
  }
}

export function credentialsOf(request: FastifyRequest): CallerCredentials {
  return credentialsOfRequest(request.raw);
}

const plugin: FastifyPluginAsync<{ authenticator: Authenticator; origins: OriginPolicy }> = async (app, { authenticator, origins }) => {
  app.decorate('authenticator', authenticator);
  app.decorate('origins', origins);
  app.decorateRequest('principal', null);
  app.addHook('onRequest', async (request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    if (PROBE_PATHS.has(path) || request.routeOptions.config.public) return;
    // before credentials: a cross-site page must not ride on what the browser sends by itself (or, in abcdesktop
    // mode, on the pod's address)
    const origin = await origins.check({ headers: request.headers, remoteAddress: request.raw.socket.remoteAddress });
    if (!origin.ok) {
      request.log.info({ reason: origin.reason, origin: request.headers.origin, admit: origin.admit }, 'cross-site caller refused');
      return reply.code(403).send({ code: 403, data: `Forbidden: ${origin.reason}` });
    }
    const decision = await authenticator.authenticate(credentialsOf(request));
    if (!decision.ok) {
      request.log.info({ reason: decision.reason }, 'caller rejected');
      return reply.code(401).header('www-authenticate', 'Bearer').send({ code: 401, data: 'Unauthorized' });
    }
    request.principal = decision.principal;
  });
};

export const authPlugin = fp(plugin, { fastify: '5.x', name: 'agent-auth' });
