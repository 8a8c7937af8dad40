import type { FastifySchemaValidationError } from 'fastify';
import type { ValidationIssue } from './errors.js';

type Location = ValidationIssue['location'];

const LOCATIONS: Record<string, Location> = { body: 'body', querystring: 'query', params: 'params', headers: 'headers' };

export function locationOf(context: string | undefined): Location {
  return LOCATIONS[context ?? 'body'] ?? 'body';
}

/** JSON-pointer of an ajv error → express-validator's dotted param name ("/list/0" → "list[0]"). */
function paramOf(instancePath: string, missingProperty?: unknown): string {
  const parts = instancePath.split('/').filter(Boolean).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (typeof missingProperty === 'string') parts.push(missingProperty);
  return parts.reduce((acc, p) => (/^\d+$/.test(p) ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), '');
}

function valueAt(data: unknown, param: string): unknown {
  let current: unknown = data;
  for (const key of param.split(/[.[\]]/).filter(Boolean)) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/**
 * The annotation keyword carrying the texts callers compare, per ajv keyword, on the property they describe:
 * `{ type: 'string', messages: { required: 'No command provided', type: 'Command must be a string' } }`;
 * `default` covers the keywords not listed.
 */
export const MESSAGES_KEYWORD = 'messages';

type SchemaNode = { properties?: Record<string, SchemaNode>; items?: SchemaNode; [MESSAGES_KEYWORD]?: Record<string, string> };

function schemaAt(root: unknown, param: string): SchemaNode | undefined {
  let node = root as SchemaNode | undefined;
  for (const key of param.split(/[.[\]]/).filter(Boolean)) {
    if (!node || typeof node !== 'object') return undefined;
    node = /^\d+$/.test(key) ? node.items : node.properties?.[key];
  }
  return node;
}

/**
 * Turns fastify's schema errors into abcdesktop's `{ errors: [{ location, param, value?, msg }] }` entries, with
 * the texts from the schema's `messages` annotations where the spec fixes them, else ajv's. One entry per param.
 */
export function toValidationIssues(
  errors: FastifySchemaValidationError[],
  context: string | undefined,
  data: unknown,
  schema: unknown,
): ValidationIssue[] {
  const location = locationOf(context);
  const issues = new Map<string, ValidationIssue>();
  for (const error of errors) {
    const param = paramOf(error.instancePath, error.params['missingProperty']);
    if (issues.has(param)) continue;
    const messages = schemaAt(schema, param)?.[MESSAGES_KEYWORD];
    const msg = messages?.[error.keyword] ?? messages?.['default'] ?? error.message ?? 'Invalid value';
    const value = valueAt(data, param);
    issues.set(param, value === undefined ? { location, param, msg } : { location, param, value, msg });
  }
  return [...issues.values()];
}
