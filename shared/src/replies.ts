/**
 * Response schemas for the routes' OpenAPI description. They document; they do not shape the bytes (the kit
 * serializes with JSON.stringify, so a reply is exactly what the handler returns, as the originals' callers expect).
 */

type Schema = Record<string, unknown>;

/** `{ code, data }`: every error that is not validation, and the originals' success shape. */
export const errorReply = {
  type: 'object',
  properties: { code: { type: 'integer' }, data: { type: 'string' } },
  required: ['code', 'data'],
} as const;

/** express-validator's 422 list. */
export const validationReply = {
  type: 'object',
  properties: {
    errors: {
      type: 'array',
      items: {
        type: 'object',
        properties: { location: { type: 'string' }, param: { type: 'string' }, value: {}, msg: { type: 'string' } },
        required: ['location', 'msg'],
      },
    },
  },
} as const;

/** `{ code: 200, data: <schema> }`. */
export function dataReply(data: Schema): Schema {
  return { type: 'object', properties: { code: { type: 'integer', enum: [200] }, data }, required: ['code', 'data'] };
}

/** `{ code: 200, data: "ok" }`. */
export const okReply = dataReply({ type: 'string', enum: ['ok'] });

/** The responses of a route: its success, the validation list when it validates, and `{ code, data }` errors. */
export function replies(success: Schema, options: { validated?: boolean } = {}): Record<string, Schema> {
  return { 200: success, ...(options.validated ? { 422: validationReply } : {}), '4xx': errorReply, '5xx': errorReply };
}

/** A free-form object (bare replies such as about, getenv). */
export const objectReply: Schema = { type: 'object', additionalProperties: true };
/** A page or a stream. */
export const textReply: Schema = { type: 'string' };
