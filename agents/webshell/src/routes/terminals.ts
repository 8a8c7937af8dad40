import { okReply, replies, type RoutesPlugin } from '@desktop-agents/kit';
import { MAX_COLS, MAX_ROWS } from '../config.js';
import { TooManyTerminals, type Terminals } from '../terminals.js';
import { ERRORS } from '../errors.js';

const size = {
  type: 'object',
  required: ['cols', 'rows'],
  properties: {
    cols: {
      type: 'integer',
      minimum: 1,
      maximum: MAX_COLS,
      messages: { required: 'No cols provided', type: 'Cols must be a number', default: `Cols must be between 1 and ${MAX_COLS}` },
    },
    rows: {
      type: 'integer',
      minimum: 1,
      maximum: MAX_ROWS,
      messages: { required: 'No rows provided', type: 'Rows must be a number', default: `Rows must be between 1 and ${MAX_ROWS}` },
    },
  },
} as const;

const pidParam = {
  type: 'object',
  required: ['pid'],
  properties: { pid: { type: 'integer', minimum: 1, messages: { default: 'Pid must be a number' } } },
} as const;

/** abcdesktop's terminal routes: create (the reply is the bare pid) and resize. */
export function terminalRoutes(terminals: Terminals): RoutesPlugin {
  return async (app) => {
    app.post(
      '/terminals',
      { schema: { querystring: size, response: replies({ type: 'integer', description: 'the pid' }, { validated: true }) } },
      async (request, reply) => {
        try {
          const terminal = terminals.create(request.query.cols, request.query.rows);
          return reply.type('application/json').send(JSON.stringify(terminal.pid));
        } catch (err) {
          if (err instanceof TooManyTerminals) throw ERRORS.TOO_MANY_TERMINALS();
          throw err;
        }
      },
    );

    app.post(
      '/terminals/:pid/size',
      {
        // validation first, as the original's chain runs before the look-up: an unknown pid is a 404 only for a valid request
        schema: { params: pidParam, querystring: size, response: replies(okReply, { validated: true }) },
      },
      async (request) => {
        const terminal = terminals.get(request.params.pid);
        if (!terminal) throw ERRORS.PID_NOT_FOUND();
        terminal.resize(request.query.cols, request.query.rows);
        return { code: 200, data: 'ok' };
      },
    );
  };
}
