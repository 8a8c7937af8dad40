import { dataReply, objectReply, replies, textReply, ValidationError, type RoutesPlugin } from '@desktop-agents/kit';
import { ERRORS } from '../errors.js';
import { Applications, mimeOf, searchFiles } from '../applications.js';

const NAME = '^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$';
const LINE = '^[^\\n\\r\\u0000]{0,1024}$';

/** Files a search returns when the query does not say (the validator fills it in; the type does not know). */
const DEFAULT_MAXFILE = 64;

const searchQuery = {
  type: 'object',
  required: ['keywords'],
  properties: {
    keywords: { type: 'string', pattern: '^[^/\\u0000-\\u001f]{1,128}$', messages: { required: 'No keywords provided', default: 'Bad keywords pattern' } },
    maxfile: { type: 'integer', minimum: 1, maximum: 1000, default: DEFAULT_MAXFILE, messages: { default: 'Maxfile must be a strictly positive number' } },
  },
} as const;

const filenameQuery = (patternMsg: string) =>
  ({
    type: 'object',
    required: ['filename'],
    properties: {
      filename: {
        type: 'string',
        minLength: 1,
        maxLength: 4096,
        pattern: '^[^\\u0000\\n\\r]+$',
        messages: { required: 'No filename provided', type: 'filename must be a string', default: patternMsg },
      },
    },
  }) as const;

const desktopList = {
  type: 'object',
  required: ['list'],
  properties: {
    list: {
      type: 'array',
      minItems: 1,
      maxItems: 500,
      messages: { required: 'No list provided', missingToo: 'List must be a non-empty array', default: 'List must be a non-empty array' },
      items: {
        type: 'object',
        required: ['name', 'launch'],
        properties: {
          name: { type: 'string', pattern: LINE, messages: { default: 'Bad application name' } },
          launch: { type: 'string', pattern: NAME, messages: { default: 'Bad launch name' } },
          desktopfile: { type: 'string', pattern: NAME, messages: { default: 'Bad desktopfile name' } },
          icon: { type: 'string', pattern: NAME, messages: { default: 'Bad icon name' } },
          icondata: { type: 'string', maxLength: 2 * 1024 * 1024, pattern: '^[A-Za-z0-9+/=\\s]*$', messages: { default: 'Bad icondata' } },
          mimetype: { type: 'string', pattern: LINE, messages: { default: 'Bad mimetype' } },
          path: { type: 'string', pattern: LINE },
          executablefilename: { type: 'string', pattern: LINE },
        },
      },
    },
  },
} as const;

export function appRoutes(settings: { home: string; ocrun: string }): RoutesPlugin {
  const apps = new Applications(settings.home, settings.ocrun);
  return async (app) => {
    app.get(
      '/filesearch',
      { schema: { querystring: searchQuery, response: replies(dataReply({ type: 'array', items: objectReply }), { validated: true }) } },
      async (request) => {
        const keywords = request.query.keywords.toLowerCase().split(/\s+/).filter(Boolean);
        if (keywords.length === 0)
          throw new ValidationError([{ location: 'query', param: 'keywords', value: request.query.keywords, msg: 'Bad keywords pattern' }]);
        return { code: 200, data: await searchFiles(settings.home, keywords, request.query.maxfile ?? DEFAULT_MAXFILE) };
      },
    );

    app.get(
      '/getmimeforfile',
      { schema: { querystring: filenameQuery('Bad filename pattern'), response: replies(textReply, { validated: true }) } },
      async (request, reply) => reply.type('text/plain; charset=utf-8').send(await mimeOf(request.query.filename)),
    );

    app.get(
      '/getappforfile',
      { schema: { querystring: filenameQuery('filename must be a string'), response: replies(dataReply(objectReply), { validated: true }) } },
      async (request) => {
        const found = await apps.forFile(request.query.filename);
        if (!found) throw ERRORS.NOT_FOUND();
        return { code: 200, data: found };
      },
    );

    app.post(
      '/generateDesktopFiles',
      { schema: { body: desktopList, response: replies(dataReply({ type: 'string' }), { validated: true }) } },
      async (request) => {
        await apps.generate(request.body.list);
        return { code: 200, data: 'OK' };
      },
    );
  };
}
