import type { FastifySchemaCompiler, FastifyServerOptions } from 'fastify';
import Ajv from 'ajv';
import ajvFormats from 'ajv-formats';
import { SCHEMAS_CHECKED } from './config.js';
import { MESSAGES_KEYWORD } from './validation.js';

/**
 * Two validators: bodies are checked as sent (42 is not a string, "1" is not a number: the spec's messages depend on
 * it), while query strings, params and headers, which are text on the wire, are coerced to the schema's types.
 */
export function createValidators(): FastifySchemaCompiler<object> {
  const make = (coerceTypes: false | 'array') => {
    const ajv = new Ajv.default({
      allErrors: true,
      coerceTypes,
      useDefaults: true,
      removeAdditional: false,
      keywords: [MESSAGES_KEYWORD],
      validateSchema: SCHEMAS_CHECKED,
    });
    ajvFormats.default(ajv);
    return ajv;
  };
  // made on first use: an agent without schemas never builds them
  let asSent: Ajv.default | undefined;
  let coerced: Ajv.default | undefined;
  const build = (schema: object, httpPart: string | undefined) =>
    httpPart === 'body' ? (asSent ??= make(false)).compile(schema) : (coerced ??= make('array')).compile(schema);
  // fastify asks for every route's validators at start (twice for a GET: its HEAD too); each is compiled when its
  // route is first called instead, which keeps ajv's code generation out of the start and of idle memory
  const compile: FastifySchemaCompiler<object> = ({ schema, httpPart }) => {
    let validate: Ajv.ValidateFunction | undefined;
    const lazy = (data: unknown): boolean => {
      validate ??= build(schema, httpPart);
      const valid = validate(data);
      lazy.errors = validate.errors;
      return valid;
    };
    lazy.errors = undefined as Ajv.ValidateFunction['errors'];
    // under test a schema's mistake still fails the start, not its route's first request
    if (SCHEMAS_CHECKED) validate = build(schema, httpPart);
    return lazy;
  };
  return compile;
}

export type CompilersFactory = NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>;

/**
 * The factories fastify builds its validator and serializer compilers from, given at its creation: without them it
 * loads its own (@fastify/ajv-compiler, fast-json-stringify, each with an ajv of its own), which the bundles leave
 * out (build/bundle.mjs). Serializers are JSON.stringify: a reply is what its handler returns. Fastify's types describe them as
 * @fastify/ajv-compiler's (a compiler of bare ajv schemas), but fastify calls what they return with the route's
 * `{ schema, httpPart, ... }`, which is what a FastifySchemaCompiler takes.
 */
export function ownCompilers(validators: FastifySchemaCompiler<object>): CompilersFactory {
  const serializers = () => (data: unknown) => JSON.stringify(data);
  return { buildValidator: () => validators, buildSerializer: () => serializers } as unknown as CompilersFactory;
}
