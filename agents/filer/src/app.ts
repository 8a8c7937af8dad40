import { createHash } from 'node:crypto';
import { access, constants, realpath } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { connectBus, createServer, publicFiles, serverOptionsOf, transfersOf, type AgentConfig, type AgentContext } from '@desktop-agents/kit';
import { createResumableUploads, fileNotFoundMessage, ensurePrivateFolder, FileRoot, fileRoutes, PartialUploads, readSwitches } from '@desktop-agents/files';
import type { FilerEnv } from './config.js';

export type FilerConfig = AgentConfig<typeof FilerEnv>;

/** Outside the served tree, per user and per home (two filers of one user never share it). */
function defaultStagingDir(home: string): string {
  const uid = process.getuid?.() ?? 0;
  return join('/var/tmp', `desktop-filer-${uid}`, createHash('sha256').update(home).digest('hex').slice(0, 16));
}

/** FILER_UPLOAD_DIR as a folder of home (made when missing): '' for home itself; outside home stops the agent. */
async function uploadFolderOf(root: FileRoot, setting: string): Promise<string> {
  if (setting === '~' || setting === '~/') return '';
  const folder = await root.makeFolder(await root.forWrite(setting.replace(/\/+$/, ''))).catch((err: unknown) => {
    throw new Error(`FILER_UPLOAD_DIR ${setting} is not a folder of home: ${(err as Error).message}`);
  });
  await folder.close();
  return root.relative(folder.real);
}

export async function buildFiler(context: AgentContext<FilerConfig>) {
  const { config, logger } = context;
  const home = await realpath(config.HOME);
  const staging = config.FILER_STAGING_DIR ?? defaultStagingDir(home);
  // the agent's own state is never reachable through the file routes, even when configured inside home
  const root = await FileRoot.open(home, [staging]);
  const bus = connectBus(config, logger);
  const { rules, audit } = transfersOf(config, logger, bus);
  const uploadDir = await uploadFolderOf(root, config.FILER_UPLOAD_DIR);
  const app = await createServer({
    ...serverOptionsOf(context),
    readiness: async () => access(root.real, constants.W_OK | constants.X_OK),
    notFoundMessage: fileNotFoundMessage(['/filer', '/printerfiler']),
  });
  const resumable = await createResumableUploads(root, {
    path: '/filer/uploads',
    stagingDir: staging,
    maxSize: config.FILER_MAX_UPLOAD_BYTES,
    ttlMs: config.FILER_UPLOAD_TTL_MS,
    log: logger.child({ component: 'resumable' }),
    transfers: { rules, audit, uploadDir },
  });
  app.addHook('onClose', async () => {
    resumable.close();
    await bus.close();
  });
  audit.defineMetrics(app.metrics);
  // the panel's settings: where uploads land, and which folders it may show
  app.get('/filer/settings', async () => ({
    code: 200,
    data: {
      uploadDir: uploadDir === '' ? '~' : `~/${uploadDir}`,
      readable: rules.rulesOf('download').paths ?? ['~'],
      writable: rules.rulesOf('upload').paths ?? ['~'],
    },
  }));
  // temp files of uploads cut by a crash of the previous run
  const markers = join(staging, 'partial');
  await ensurePrivateFolder(markers);
  const partials = new PartialUploads(markers, root.real);
  const swept = await partials.sweep();
  if (swept > 0) logger.info({ swept }, 'removed temp files of interrupted uploads');
  // the file panel page (public: it asks for the token itself)
  await app.register(publicFiles(fileURLToPath(new URL('../public/', import.meta.url)), { '/filer/panel': 'panel.html', '/filer/panel.js': 'panel.js' }));
  await app.register(
    fileRoutes({
      metricsPrefix: 'filer',
      root,
      switches: readSwitches(config),
      maxUploadBytes: config.FILER_MAX_UPLOAD_BYTES,
      resumable,
      partials,
      prefixes: ['/filer', '/printerfiler'],
      transfers: { rules, audit, uploadDir },
    }),
  );
  return app;
}
