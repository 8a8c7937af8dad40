import { callerOf, replies, textReply, TransferRefused, type RoutesPlugin } from '@desktop-agents/kit';
import { sendFile, sendFolderZip } from '../download.js';
import { fileErrorToHttp } from '../errors.js';
import type { OpenedEntry } from '../paths.js';
import { screenDownload } from '../screen.js';
import { fileQuery, forbidden, pathErrors, type RouteContext } from './common.js';

/** GET PREFIX?file=: a file (Range, conditional), or a folder as a zip; screened by the download rules and audited. */
export function downloadRoute({ prefix, options, stats }: RouteContext): RoutesPlugin {
  const { root, switches, transfers } = options;
  const { rules, audit } = transfers;
  return async (app) => {
    app.get(prefix, { schema: { querystring: fileQuery, response: replies(textReply, { validated: true }) } }, async (request, reply) => {
      if (!switches.download) throw forbidden();
      // opened first, then checked on the descriptor: what is served is what was checked (FIFOs refused unopened)
      const opened = await root.openExisting(request.query.file).catch(pathErrors());
      const caller = callerOf(request);
      const subject = root.relative(opened.real) || '~';
      if (opened.stat.isFile()) {
        // decided on what was opened: its path, its size and the type of its first bytes
        await audit
          .around(
            { direction: 'download', subject, ...caller, bytes: opened.stat.size },
            async () => ({ type: await screenDownload(rules, subject, opened) }),
            (r) => r,
          )
          .catch(async (err: unknown) => {
            await opened.handle.close();
            throw fileErrorToHttp(err, 'read');
          });
      }
      stats.downloads += 1;
      stats.inFlight.download += 1;
      reply.raw.once('close', () => (stats.inFlight.download -= 1));
      if (opened.stat.isFile()) return sendFile(request, reply, opened);
      await opened.handle.close();
      // a folder's zip: each file screened on its own; a refused one is left out and listed in REFUSED.txt
      const screen = rules.restricts('download')
        ? async (entry: OpenedEntry) => {
            const path = root.relative(entry.real);
            try {
              await screenDownload(rules, path, entry);
              return undefined;
            } catch (err) {
              if (!(err instanceof TransferRefused)) throw err;
              audit.refused({ direction: 'download', subject: path, ...caller, ...err.facts }, err);
              return err.rule;
            }
          }
        : undefined;
      audit.allowed({ direction: 'download', subject: `${subject} (zip)`, type: 'application/zip', ...caller });
      return sendFolderZip(reply, root.real, opened.real, screen);
    });
  };
}
