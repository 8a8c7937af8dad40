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

/** The first original ajv error behind an ajv-errors `errorMessage` entry tells which param failed. */
function originalOf(error: FastifySchemaValidationError): FastifySchemaValidationError {
  const originals = error.params['errors'];
  return error.keyword === 'errorMessage' && Array.isArray(originals) && originals.length > 0
    ? (originals[0] as FastifySchemaValidationError)
    : error;
}

/**
 * Turns fastify's schema errors into abcdesktop's `{ errors: [{ location, param, value?, msg }] }` entries. Messages
 * come from the schema's `errorMessage` (ajv-errors) where the spec fixes them, else from ajv.
 */
export function toValidationIssues(
  errors: FastifySchemaValidationError[],
  context: string | undefined,
  data: unknown,
): ValidationIssue[] {
  const location = locationOf(context);
  return errors.map((error) => {
    const original = originalOf(error);
    const param = paramOf(original.instancePath, original.params['missingProperty']);
    const value = valueAt(data, param);
    const msg = error.message ?? 'Invalid value';
    return value === undefined ? { location, param, msg } : { location, param, value, msg };
  });
}
