import { okReply, publicFiles, replies, type RoutesPlugin } from '@desktop-agents/kit';
import type { Clipboard } from '../clipboard.js';

/**
 * abcdesktop's clipboardsync (it answers first and copies PRIMARY to CLIPBOARD and SECONDARY after), and the
 * browser side of the clipboard and notifications: a page and the script it uses, which abcdesktop's UI can load too
 * (public: they hold no data; the bus they join checks the token).
 */
export function clipboardRoutes(clipboard: Clipboard, publicDir: string): RoutesPlugin {
  return async (app) => {
    await app.register(publicFiles(publicDir, { '/integration': 'integration.html', '/integration.js': 'integration.js' }));
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
