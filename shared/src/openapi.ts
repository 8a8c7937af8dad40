import fp from 'fastify-plugin';
import type { FastifyPluginAsync, FastifySchema, HTTPMethods } from 'fastify';
import { ownCompilers } from './compilers.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The OpenAPI 3 document of every route of the agent, built on first call. */
    openapi(): Promise<Record<string, unknown>>;
  }
}

interface RecordedRoute {
  method: HTTPMethods | HTTPMethods[];
  url: string;
  schema: FastifySchema | undefined;
}

/**
 * GET /openapi.json without paying for it at start: the routes are recorded as they are registered, and the first
 * request hands them to @fastify/swagger (with yaml and its resolver, ~100 ms and several MiB at start otherwise) in
 * a private instance that only describes them.
 */
const plugin: FastifyPluginAsync<{ title: string; description: string }> = async (app, info) => {
  const routes: RecordedRoute[] = [];
  app.addHook('onRoute', (route) => {
    // fastify adds a HEAD for every GET itself; the describing instance does the same
    if (route.method === 'HEAD') return;
    routes.push({ method: route.method, url: route.url ?? route.path, schema: route.schema });
  });
  let document: Promise<Record<string, unknown>> | undefined;
  app.decorate('openapi', () => (document ??= describe(routes, { title: info.title, description: info.description })));
};

export const openapiPlugin = fp(plugin, { fastify: '5.x', name: 'agent-openapi' });

async function describe(routes: RecordedRoute[], info: { title: string; description: string }): Promise<Record<string, unknown>> {
  const [{ default: Fastify }, { default: swagger }] = await Promise.all([import('fastify'), import('@fastify/swagger')]);
  // it never validates or serializes: the schemas are only read
  const doc = Fastify({ schemaController: { compilersFactory: ownCompilers(() => () => true) } });
  await doc.register(swagger, { openapi: { info: { ...info, version: '1.0.0' } } });
  await doc.register(async (scope) => {
    for (const route of routes) scope.route({ method: route.method, url: route.url, schema: route.schema ?? {}, handler: async () => null });
  });
  await doc.ready();
  const described = doc.swagger() as unknown as Record<string, unknown>;
  await doc.close();
  return described;
}
