import Fastify, { type FastifyError, type FastifyReply, type FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Logger } from 'pino';
import { ChildProcesses } from './children.js';
import { statusPlugin } from './status.js';
import { HttpError, ValidationError } from './errors.js';
import { toValidationIssues } from './validation.js';
import { createValidators, loadValidatorLibrary, ownCompilers } from './compilers.js';
import { authPlugin } from './auth-plugin.js';
import { healthPlugin, type ReadinessCheck } from './health.js';
import type { Authenticator } from './auth.js';
import { CommonEnv, SCHEMAS_CHECKED, type CommonConfig } from './config.js';
import { httpTimeouts, limitConnections, type SocketRules } from './connections.js';
import { originPolicy } from './origin.js';
import { metricsPlugin } from './metrics.js';
import { openapiPlugin } from './openapi.js';
import { objectReply, replies } from './replies.js';

function copy(value: unknown): unknown {
  return value !== null && typeof value === 'object' ? { ...value } : value;
}

export interface ServerOptions {
  logger: Logger;
  authenticator: Authenticator;
  /** Touches the agent's real dependency; throws (or rejects) with the reason when it is not usable. */
  readiness: ReadinessCheck;
  /** Largest JSON body accepted; abcdesktop's 500 MB default is not kept. */
  bodyLimit?: number;
  readinessTimeoutMs?: number;
  /** The `data` of the 404 for unknown routes (the file service answers `Can not GET /x`). */
  notFoundMessage?: (method: string, path: string) => string;
  /** Origin policy, connection caps and timeouts: the agent's config; the schema's defaults when absent (tests). */
  security?: SecuritySettings;
  /** The agent's name: the title of its OpenAPI document. */
  name?: string;
}

export type SecuritySettings = Pick<
  CommonConfig,
  | 'ALLOWED_ORIGINS'
  | 'EXTERNAL_DESKTOP_HOSTNAME'
  | 'AUTH_MODE'
  | 'NGINX_SERVICE_HOST'
  | 'HTTP_ROUTER_SERVICE_HOST'
  | 'MAX_CONNECTIONS'
  | 'MAX_CONNECTIONS_PER_ADDRESS'
  | 'HTTP_HEADERS_TIMEOUT_MS'
  | 'HTTP_IDLE_TIMEOUT_MS'
  | 'HTTP_KEEPALIVE_TIMEOUT_MS'
  | 'HTTP_REQUEST_TIMEOUT_MS'
  | 'METRICS_PUBLIC'
  | 'STATUS_SAMPLE_MS'
>;

/** The security settings of an agent whose env sets none (each CommonEnv default). */
export const DEFAULT_SECURITY: SecuritySettings = {
  ALLOWED_ORIGINS: CommonEnv.ALLOWED_ORIGINS.default,
  AUTH_MODE: CommonEnv.AUTH_MODE.default,
  MAX_CONNECTIONS: CommonEnv.MAX_CONNECTIONS.default,
  MAX_CONNECTIONS_PER_ADDRESS: CommonEnv.MAX_CONNECTIONS_PER_ADDRESS.default,
  HTTP_HEADERS_TIMEOUT_MS: CommonEnv.HTTP_HEADERS_TIMEOUT_MS.default,
  HTTP_IDLE_TIMEOUT_MS: CommonEnv.HTTP_IDLE_TIMEOUT_MS.default,
  HTTP_KEEPALIVE_TIMEOUT_MS: CommonEnv.HTTP_KEEPALIVE_TIMEOUT_MS.default,
  HTTP_REQUEST_TIMEOUT_MS: CommonEnv.HTTP_REQUEST_TIMEOUT_MS.default,
  METRICS_PUBLIC: CommonEnv.METRICS_PUBLIC.default,
  STATUS_SAMPLE_MS: CommonEnv.STATUS_SAMPLE_MS.default,
};

declare module 'fastify' {
  interface FastifyInstance {
    /** The caps and timeouts of the agent's port, for any other port it opens (connections.ts). */
    socketRules: SocketRules;
    /** Processes this agent started; all are killed when the server closes. */
    children: ChildProcesses;
  }
}

function sendError(reply: FastifyReply, statusCode: number, data: string): FastifyReply {
  return reply.code(statusCode).type('application/json').send({ code: statusCode, data });
}

/** Query strings and params as received, before the validator coerces them: validation errors report these. */
const receivedInput = new WeakMap<FastifyRequest, { query: unknown; params: unknown }>();

function errorHandler(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply) {
  if (error instanceof ValidationError) return reply.code(422).send({ errors: error.issues });
  if ('validation' in error && error.validation) {
    const context = error.validationContext;
    const part = context === 'querystring' ? 'querystring' : context === 'params' ? 'params' : context === 'headers' ? 'headers' : 'body';
    const received = receivedInput.get(request);
    const data =
      part === 'querystring'
        ? (received?.query ?? request.query)
        : part === 'params'
          ? (received?.params ?? request.params)
          : part === 'headers'
            ? request.headers
            : request.body;
    const schema = request.routeOptions.schema?.[part];
    return reply.code(422).send({ errors: toValidationIssues(error.validation, context, data, schema) });
  }
  if (error instanceof HttpError) {
    request.log.info({ code: error.code, statusCode: error.statusCode }, 'request refused');
    return sendError(reply, error.statusCode, error.message);
  }
  const statusCode = 'statusCode' in error && typeof error.statusCode === 'number' ? error.statusCode : 500;
  if (statusCode >= 500) {
    request.log.error({ err: error }, 'request failed');
    return sendError(reply, 500, 'Internal server error');
  }
  // fastify's own client errors: bad JSON (400), body too large (413), unsupported media type (415)...
  return sendError(reply, statusCode, error.message);
}

/**
 * The agent's HTTP server: JSON logs, schema validation answered in abcdesktop's 422 shape, `{ code, data }` errors,
 * GET /healthz and /readyz, auth on every other route, and children killed on close. It does not listen.
 */
export async function createServer(options: ServerOptions) {
  const security = options.security ?? DEFAULT_SECURITY;
  if (SCHEMAS_CHECKED) await loadValidatorLibrary();
  const app = Fastify({
    loggerInstance: options.logger,
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    forceCloseConnections: true,
    // the kit's socket rules (connections.ts), as on every other port an agent opens
    http: httpTimeouts(security),
    connectionTimeout: security.HTTP_IDLE_TIMEOUT_MS,
    keepAliveTimeout: security.HTTP_KEEPALIVE_TIMEOUT_MS,
    requestTimeout: security.HTTP_REQUEST_TIMEOUT_MS,
    // response schemas document the routes (OpenAPI); the reply is what the handler returns, never reshaped by them
    schemaController: { compilersFactory: ownCompilers(createValidators()) },
  }).withTypeProvider<TypeBoxTypeProvider>();
  limitConnections(app.server, security, options.logger.child({ component: 'connections' }));
  app.decorate('socketRules', security);

  app.decorate('children', new ChildProcesses(options.logger.child({ component: 'children' })));
  app.setErrorHandler((error: FastifyError | Error, request, reply) => errorHandler(error, request, reply));
  app.addHook('preValidation', async (request) => {
    if (request.routeOptions.schema) receivedInput.set(request, { query: copy(request.query), params: copy(request.params) });
  });
  const notFoundMessage = options.notFoundMessage ?? (() => 'Not found');
  app.setNotFoundHandler((request, reply) => sendError(reply, 404, notFoundMessage(request.method, request.url.split('?')[0] ?? '')));
  // first, so that it sees every route registered after it: GET /openapi.json describes them all
  await app.register(openapiPlugin, { title: options.name ?? 'agent', description: `${options.name ?? 'agent'} API (abcdesktop-compatible)` });
  app.get('/openapi.json', { schema: { response: replies(objectReply) } }, async () => app.openapi());
  await app.register(healthPlugin, { readiness: options.readiness, timeoutMs: options.readinessTimeoutMs ?? 2000 });
  await app.register(metricsPlugin, { public: security.METRICS_PUBLIC });
  const warnings = options.authenticator.warnings ?? [];
  for (const warning of warnings) options.logger.warn({ component: 'auth' }, warning);
  await app.register(statusPlugin, { name: options.name ?? 'agent', sampleMs: security.STATUS_SAMPLE_MS, warnings });
  await app.register(authPlugin, { authenticator: options.authenticator, origins: originPolicy(security) });
  app.addHook('onClose', async (instance) => instance.children.killAll());
  return app;
}

export type AgentServer = Awaited<ReturnType<typeof createServer>>;
