import type { FastifyPluginAsync } from 'fastify';
import { okReply, replies } from '@desktop-agents/kit';
import type { Clipboard } from '../clipboard.js';

/** abcdesktop's clipboardsync: it answers first and copies PRIMARY to CLIPBOARD and SECONDARY after. */
export function clipboardRoutes(clipboard: Clipboard): FastifyPluginAsync {
  return async (app) => {
    app.post('/clipboardsync', { schema: { response: replies(okReply) } }, async (request) => {
      setImmediate(() =>
        clipboard.syncPrimary().then(
          (bytes) => request.log.info({ bytes }, 'clipboard synchronised'),
          (err: Error) => request.log.info({ err: { message: err.message } }, 'clipboard not synchronised'),
        ),
      );
      return { code: 200, data: 'ok' };
    });
  };
}
