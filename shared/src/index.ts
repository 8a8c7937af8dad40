export * from './config.js';
export * from './logger.js';
export * from './errors.js';
export * from './auth.js';
export { credentialsOf } from './auth-plugin.js';
export * from './children.js';
export { PROBE_PATHS, type ReadinessCheck } from './health.js';
export * from './server.js';
export * from './agent.js';
export * from './bus-client.js';
export { toValidationIssues } from './validation.js';
export * from './websocket.js';
export * from './origin.js';
export { limitConnections } from './connections.js';
export * from './backoff.js';
export * from './bus-methods.js';
export { Metrics, type MetricDefinition, type Sample } from './metrics.js';
// its module augmentation (app.swagger()) reaches every agent through the kit's types
export type { SwaggerOptions } from '@fastify/swagger';
