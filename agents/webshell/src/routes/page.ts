import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import type { FastifyPluginAsync } from 'fastify';
import { textReply } from '@desktop-agents/kit';

/** The terminal page and the xterm.js files bundled at build time; served without credentials (the page asks for them). */
const FILES: Record<string, string> = {
  '/': 'index.html',
  '/terminal.js': 'terminal.js',
  '/vendor/xterm.js': 'vendor/xterm.js',
  '/vendor/xterm.css': 'vendor/xterm.css',
  '/vendor/addon-fit.js': 'vendor/addon-fit.js',
};

const TYPES: Record<string, string> = { html: 'text/html; charset=utf-8', js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8' };

export function pageRoutes(publicDir: string): FastifyPluginAsync {
  return async (app) => {
    for (const [url, file] of Object.entries(FILES)) {
      app.get(url, { config: { public: true }, schema: { response: { 200: textReply } } }, async (_request, reply) =>
        reply
          .type(TYPES[file.split('.').pop() ?? ''] ?? 'application/octet-stream')
          .header('cache-control', 'no-cache')
          .send(createReadStream(join(publicDir, file))),
      );
    }
  };
}
