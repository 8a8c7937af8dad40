import type { FastifySchemaValidationError } from 'fastify';
import type { ValidationIssue } from './errors.js';

type Location = ValidationIssue['location'];

const LOCATIONS: Record<string, Location> = { body: 'body', querystring: 'query', params: 'params', headers: 'headers' };

export function locationOf(context: string | undefined): Location {
  return LOCATIONS[context ?? 'body'] ?? 'body';
}

/**
 * The annotation keyword carrying the texts callers compare, per ajv keyword, on the schema node they describe:
 * `{ type: 'string', messages: { required: 'No command provided', type: 'Command must be a string' } }`;
 * `default` covers the keywords not listed, and `null` a field sent as JSON null (else `required` does: a null
 * field counts as not provided, as express-validator's `exists({ checkNull: true })`). `missingToo` is a second
 * text reported for an absent field, where the original's chain does not stop after its presence rule (the
 * spawner's `list`: `No list provided` and `List must be a non-empty array`).
 */
export const MESSAGES_KEYWORD = 'messages';

type Messages = Record<string, string>;
type SchemaNode = { properties?: Record<string, SchemaNode>; [MESSAGES_KEYWORD]?: Messages; [key: string]: unknown };

function unescape(part: string): string {
  return part.replace(/~1/g, '/').replace(/~0/g, '~');
}

/** The schema nodes along a JSON pointer (`#/properties/x/items/type` → root, x, x.items), outermost first. */
function nodesAlong(root: unknown, pointer: string): SchemaNode[] {
  const nodes: SchemaNode[] = [];
  let node = root as SchemaNode | undefined;
  if (node && typeof node === 'object') nodes.push(node);
  for (const part of pointer.replace(/^#\/?/, '').split('/').filter(Boolean).map(unescape)) {
    const next: unknown = node && typeof node === 'object' ? (node as Record<string, unknown>)[part] : undefined;
    if (!next || typeof next !== 'object') break;
    node = next as SchemaNode;
    if (!Array.isArray(next)) nodes.push(node);
  }
  return nodes;
}

/**
 * The text for one failing rule: the `messages` of the innermost schema node on the error's path that has one
 * (an item's own, else its array's: express-validator checks an array with one chain and one set of texts).
 */
function messageFor(error: FastifySchemaValidationError, root: unknown, field: string | undefined, value: unknown): string | undefined {
  const missing = error.keyword === 'required';
  const nodes = missing && field ? [(root as SchemaNode).properties?.[field] ?? {}] : nodesAlong(root, error.schemaPath).slice(1);
  for (const node of nodes.reverse()) {
    const messages = node[MESSAGES_KEYWORD];
    if (!messages) continue;
    if (value === null && !missing) {
      const nullText = messages['null'] ?? messages['required'];
      if (nullText) return nullText;
    }
    const text = messages[error.keyword] ?? messages['default'];
    if (text) return text;
  }
  return undefined;
}

/** The top-level field an error is about: `/windowsid/1` → windowsid (array rules name the array). */
function fieldOf(error: FastifySchemaValidationError): string | undefined {
  const first = error.instancePath.split('/').filter(Boolean).map(unescape)[0];
  if (first !== undefined) return first;
  const missing = error.params['missingProperty'];
  return typeof missing === 'string' ? missing : undefined;
}

/**
 * Turns fastify's schema errors into abcdesktop's `{ errors: [{ location, param, value?, msg }] }` entries with
 * express-validator's semantics: one entry per failing field (its first failing rule), fields in the order the
 * schema declares them, `value` as received (`raw`: query strings and params before coercion, bodies as sent), no
 * `value` for an absent field, and an array's rules reported on the array.
 */
export function toValidationIssues(errors: FastifySchemaValidationError[], context: string | undefined, raw: unknown, schema: unknown): ValidationIssue[] {
  const location = locationOf(context);
  const issues = new Map<string, ValidationIssue>();
  const received = raw !== null && typeof raw === 'object' ? (raw as Record<string, unknown>) : {};
  for (const error of errors) {
    const field = fieldOf(error);
    const param = field ?? '';
    if (issues.has(param)) continue;
    const value = field === undefined ? raw : received[field];
    const msg = messageFor(error, schema, field, value) ?? error.message ?? 'Invalid value';
    issues.set(param, value === undefined ? { location, param, msg } : { location, param, value, msg });
    const also =
      error.keyword === 'required' && field ? (schema as SchemaNode | undefined)?.properties?.[field]?.[MESSAGES_KEYWORD]?.['missingToo'] : undefined;
    if (also) issues.set(`${param}\0missingToo`, { location, param, msg: also });
  }
  const declared = Object.keys((schema as SchemaNode | undefined)?.properties ?? {});
  const rank = (param: string) => (declared.includes(param) ? declared.indexOf(param) : declared.length);
  return [...issues.values()].sort((a, b) => rank(a.param ?? '') - rank(b.param ?? ''));
}
