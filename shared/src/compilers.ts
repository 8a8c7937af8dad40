import type { FastifySchemaCompiler, FastifyServerOptions } from 'fastify';
import type Ajv from 'ajv';
import { SCHEMAS_CHECKED } from './config.js';
import { MESSAGES_KEYWORD } from './validation.js';

interface AjvLibrary {
  Ajv: typeof Ajv.default;
  addFormats: (ajv: Ajv.default) => unknown;
}

let ajvLibrary: Promise<AjvLibrary> | undefined;
let ajvLoaded: AjvLibrary | undefined;

/**
 * ajv and ajv-formats, imported on first use: an agent that answers no validated request never loads them (~230 KB
 * of code to compile at start, and the memory it holds). createServer awaits it under test, where every route's
 * schema is compiled at start.
 */
export function loadValidatorLibrary(): Promise<AjvLibrary> {
  ajvLibrary ??= Promise.all([import('ajv'), import('ajv-formats')]).then(([ajv, formats]) => {
    const library: AjvLibrary = { Ajv: ajv.default.default, addFormats: formats.default.default };
    ajvLoaded = library;
    return library;
  });
  return ajvLibrary;
}

/**
 * Two validators: bodies are checked as sent (42 is not a string, "1" is not a number: the spec's messages depend on
 * it), while query strings, params and headers, which are text on the wire, are coerced to the schema's types.
 */
export function createValidators(): FastifySchemaCompiler<object> {
  const make = (library: AjvLibrary, coerceTypes: false | 'array') => {
    const ajv = new library.Ajv({
      allErrors: true,
      coerceTypes,
      useDefaults: true,
      removeAdditional: false,
      keywords: [MESSAGES_KEYWORD],
      validateSchema: SCHEMAS_CHECKED,
    });
    library.addFormats(ajv);
    return ajv;
  };
  // made on first use: an agent without schemas never builds them
  let asSent: Ajv.default | undefined;
  let coerced: Ajv.default | undefined;
  const build = (library: AjvLibrary, schema: object, httpPart: string | undefined) =>
    httpPart === 'body' ? (asSent ??= make(library, false)).compile(schema) : (coerced ??= make(library, 'array')).compile(schema);
  // fastify asks for every route's validators at start (twice for a GET: its HEAD too); each is compiled when its
  // route is first called instead, which keeps ajv's code generation out of the start and of idle memory. A request
  // that needs ajv before it is loaded is validated once it is: fastify waits for a validator's promise. Its errors
  // travel in the rejection (as fastify's own async validators' do), not on the function: requests validated together
  // would each overwrite them there before fastify reads them.
  const compile: FastifySchemaCompiler<object> = ({ schema, httpPart }) => {
    let validate: Ajv.ValidateFunction | undefined;
    const run = (library: AjvLibrary, data: unknown): boolean => {
      validate ??= build(library, schema, httpPart);
      const valid = validate(data);
      lazy.errors = validate.errors;
      return valid;
    };
    const lazy = (data: unknown): boolean | Promise<true> => {
      if (ajvLoaded) return run(ajvLoaded, data);
      return loadValidatorLibrary().then((library) => {
        if (run(library, data)) return true;
        throw Object.assign(new Error('request validation failed'), { validation: lazy.errors });
      });
    };
    lazy.errors = undefined as Ajv.ValidateFunction['errors'];
    // under test a schema's mistake still fails the start, not its route's first request (createServer loaded ajv)
    if (SCHEMAS_CHECKED) {
      if (!ajvLoaded) throw new Error('validators are compiled at start under test: loadValidatorLibrary() first');
      validate = build(ajvLoaded, schema, httpPart);
    }
    // fastify types a validator's promise as its own branded kind; it only awaits what is returned
    return lazy as unknown as ReturnType<FastifySchemaCompiler<object>>;
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
