import { callerOf, okReply, replies, type RoutesPlugin } from '@desktop-agents/kit';
import { fileErrorToHttp } from '../errors.js';
import { resultOf } from '../stats.js';
import { receiveUpload } from '../upload.js';
import { forbidden, type RouteContext } from './common.js';

/** POST PREFIX: abcdesktop's multipart upload, through the upload rules, audited. */
export function uploadRoute({ prefix, options, stats }: RouteContext): RoutesPlugin {
  const { root, switches, transfers } = options;
  const { audit } = transfers;
  return async (app) => {
    app.post(prefix, { schema: { response: replies(okReply, { validated: true }) } }, async (request, reply) => {
      if (!switches.upload) throw forbidden();
      const input = {
        parts: request.parts(),
        declaredBytes: Number(request.headers['content-length'] ?? 0),
        overwrite: (request.query as Record<string, unknown>)['overwrite'] === 'true',
      };
      stats.inFlight.upload += 1;
      const caller = callerOf(request);
      const result = await audit
        .around(
          { direction: 'upload', subject: '(multipart)', ...caller },
          () => receiveUpload(input, root, options.partials, transfers),
          (r) => ({ subject: r.path, bytes: r.bytes, ...(r.type ? { type: r.type } : {}) }),
        )
        .catch((err: unknown) => {
          const mapped = fileErrorToHttp(err, 'upload');
          stats.upload(resultOf(mapped));
          throw mapped;
        })
        .finally(() => (stats.inFlight.upload -= 1));
      stats.upload('ok', result.bytes);
      request.log.info({ path: result.path, bytes: result.bytes }, 'file uploaded');
      // the body is exactly the original's; the name the file got (after a collision) is in Location
      reply.header('location', `${prefix}?file=${encodeURIComponent(`~/${result.path}`)}`);
      return { code: 200, data: 'ok' };
    });
  };
}
