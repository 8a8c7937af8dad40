import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import type { FastifyPluginAsync } from 'fastify';
import { textReply } from './replies.js';

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8' } as const;

/**
 * An agent's pages and their scripts, each route naming its file in `dir` (no path from the request reaches the
 * disk). Public: they hold no data, and the sockets or routes they call check the token. `no-cache`: a browser
 * revalidates them, so an updated agent's page and its scripts are never mixed with older ones.
 */
export function publicFiles(dir: string, files: Readonly<Record<string, `${string}${keyof typeof TYPES}`>>): FastifyPluginAsync {
  return async (app) => {
    for (const [path, file] of Object.entries(files)) {
      const type = TYPES[file.slice(file.lastIndexOf('.')) as keyof typeof TYPES];
      app.get(path, { config: { public: true }, schema: { response: { 200: textReply } } }, async (_request, reply) =>
        reply
          .type(type)
          .header('cache-control', 'no-cache')
          .send(createReadStream(join(dir, file))),
      );
    }
  };
}
