import Fastify, { type FastifyError, type FastifyReply, type FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import ajvErrors from 'ajv-errors';
import ajvFormats from 'ajv-formats';
import type { Logger } from 'pino';
import { ChildProcesses } from './children.js';
import { HttpError, ValidationError } from './errors.js';
import { toValidationIssues } from './validation.js';
import { authPlugin } from './auth-plugin.js';
import { healthPlugin, type ReadinessCheck } from './health.js';
import type { Authenticator } from './auth.js';

/** ajv's Plugin<unknown>: each plugin's own option type is narrower, and we pass none. */
type AjvPlugin = Parameters<typeof ajvErrors.default>[0] extends infer A ? (ajv: A, options?: unknown) => A : never;

export interface ServerOptions {
  logger: Logger;
  authenticator: Authenticator;
  /** Touches the agent's real dependency; throws (or rejects) with the reason when it is not usable. */
  readiness: ReadinessCheck;
  /** Largest JSON body accepted; abcdesktop's 500 MB default is not kept. */
  bodyLimit?: number;
  readinessTimeoutMs?: number;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Processes this agent started; all are killed when the server closes. */
    children: ChildProcesses;
  }
}

function sendError(reply: FastifyReply, statusCode: number, data: string): FastifyReply {
  return reply.code(statusCode).type('application/json').send({ code: statusCode, data });
}

function errorHandler(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply) {
  if (error instanceof ValidationError) return reply.code(422).send({ errors: error.issues });
  if ('validation' in error && error.validation) {
    const context = error.validationContext;
    const data = context === 'querystring' ? request.query : context === 'params' ? request.params : request.body;
    return reply.code(422).send({ errors: toValidationIssues(error.validation, context, data) });
  }
  if (error instanceof HttpError) return sendError(reply, error.statusCode, error.message);
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
  const app = Fastify({
    loggerInstance: options.logger,
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    disableRequestLogging: false,
    ajv: {
      customOptions: { allErrors: true, coerceTypes: 'array', removeAdditional: false },
      plugins: [ajvErrors.default as AjvPlugin, ajvFormats.default as AjvPlugin],
    },
    forceCloseConnections: true,
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.decorate('children', new ChildProcesses(options.logger.child({ component: 'children' })));
  app.setErrorHandler((error: FastifyError | Error, request, reply) => errorHandler(error, request, reply));
  app.setNotFoundHandler((request, reply) => sendError(reply, 404, 'Not found'));
  await app.register(healthPlugin, { readiness: options.readiness, timeoutMs: options.readinessTimeoutMs ?? 2000 });
  await app.register(authPlugin, { authenticator: options.authenticator });
  app.addHook('onClose', async (instance) => instance.children.killAll());
  return app;
}

export type AgentServer = Awaited<ReturnType<typeof createServer>>;
