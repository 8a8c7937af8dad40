import fp from 'fastify-plugin';
import type { FastifyPluginAsync } from 'fastify';

/** Resolves when the agent's dependency really answers; rejects with the reason otherwise. */
export type ReadinessCheck = () => Promise<void>;

export interface HealthOptions {
  readiness: ReadinessCheck;
  timeoutMs: number;
}

export const PROBE_PATHS = new Set(['/healthz', '/readyz']);

function withTimeout(check: ReadinessCheck, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`readiness check timed out after ${ms} ms`)), ms);
  });
  // a check that throws before its first await (a getter refusing, say) is a rejection like any other: thrown
  // synchronously, it would skip the race and leave the timeout to reject later with no one listening
  const checked = Promise.resolve().then(check);
  return Promise.race([checked, timeout]).finally(() => clearTimeout(timer));
}

const plugin: FastifyPluginAsync<HealthOptions> = async (app, { readiness, timeoutMs }) => {
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });

  const probeReply = { type: 'object', properties: { status: { type: 'string' }, ready: { type: 'boolean' }, reason: { type: 'string' } } };
  app.get('/healthz', { schema: { response: { 200: probeReply } } }, async () => ({ status: 'ok' }));

  app.get('/readyz', { schema: { response: { 200: probeReply, 503: probeReply } } }, async (request, reply) => {
    if (closing) return reply.code(503).send({ ready: false, reason: 'shutting down' });
    try {
      await withTimeout(readiness, timeoutMs);
      return { ready: true };
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      request.log.warn({ reason }, 'not ready');
      return reply.code(503).send({ ready: false, reason });
    }
  });
};

export const healthPlugin = fp(plugin, { fastify: '5.x', name: 'agent-health' });
