import { createReadStream } from 'node:fs';
import { access, constants } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { createServer, type AgentConfig, type AgentContext } from '@desktop-agents/kit';
import { createResumableUploads, FileRoot, fileRoutes, PartialUploads, readSwitches } from '@desktop-agents/kit/files';
import type { FilerEnv } from './config.js';

export type FilerConfig = AgentConfig<typeof FilerEnv>;

export async function buildFiler({ config, logger, authenticator }: AgentContext<FilerConfig>) {
  const root = await FileRoot.open(config.HOME);
  const app = await createServer({
    logger,
    authenticator,
    readiness: async () => access(root.real, constants.W_OK | constants.X_OK),
    notFoundMessage: (method, path) => `Can not ${method} ${path}`,
  });
  const staging = config.FILER_STAGING_DIR ?? join(root.real, '.cache', 'filer-uploads');
  // temp files of uploads cut by a crash of the previous run
  const partials = new PartialUploads(join(dirname(staging), 'filer-partial'));
  const swept = await partials.sweep();
  if (swept > 0) logger.info({ swept }, 'removed temp files of interrupted uploads');
  const resumable = await createResumableUploads(root, {
    path: '/filer/uploads',
    stagingDir: staging,
    maxSize: config.FILER_MAX_UPLOAD_BYTES,
    log: logger.child({ component: 'resumable' }),
  });
  // the file panel page (public: it asks for the token itself)
  const panel = fileURLToPath(new URL('../public/upload.html', import.meta.url));
  app.get('/filer/panel', { config: { public: true } }, async (_request, reply) => reply.type('text/html; charset=utf-8').send(createReadStream(panel)));
  await app.register(
    fileRoutes({ root, switches: readSwitches(process.env), maxUploadBytes: config.FILER_MAX_UPLOAD_BYTES, resumable, partials, prefixes: ['/filer', '/printerfiler'] }),
  );
  return app;
}
