import { access, constants, realpath } from 'node:fs/promises';
import { connectBus, createServer, serverOptionsOf, transfersOf, type AgentConfig, type AgentContext } from '@desktop-agents/kit';
import { printScreen } from './print-screen.js';
import { FileRoot, fileNotFoundMessage, fileRoutes, readSwitches } from '@desktop-agents/files';
import { PrintAnnouncer } from './announcer.js';
import { PrinterAvailability } from './availability.js';
import type { PrinterfileEnv } from './config.js';
import { CupsClient } from './ipp.js';
import { purgeOlderThan } from './purge.js';
import { printerRoutes } from './routes/printer.js';

export type PrinterfileConfig = AgentConfig<typeof PrinterfileEnv>;

/** abcdesktop's printer file service: download and delete only. */
const SWITCH_DEFAULTS = { download: true, upload: false, list: false, remove: true };

export async function buildPrinterfile(context: AgentContext<PrinterfileConfig>) {
  const { config, logger } = context;
  const folder = config.WATCHDIR ?? config.HOME;
  const root = await FileRoot.open(folder);
  const cups = new CupsClient(config.CUPS_SERVER, config.PRINTER_NAME, config.PRINTERFILE_IPP_TIMEOUT_MS);
  const bus = connectBus(config, logger);
  const { rules, audit } = transfersOf(config, logger, bus);
  const announcer = new PrintAnnouncer(
    root.real,
    bus,
    config.PRINTERFILE_SETTLE_MS,
    logger.child({ component: 'announcer' }),
    printScreen(root.real, rules, audit),
  );
  const availability = new PrinterAvailability(cups, bus, config.PRINTERFILE_POLL_MS, logger.child({ component: 'availability' }));

  const app = await createServer({
    ...serverOptionsOf(context),
    readiness: async () => {
      await access(root.real, constants.R_OK | constants.W_OK);
      await cups.status();
    },
    notFoundMessage: fileNotFoundMessage(['/printerfiler', '/filer']),
  });
  await app.register(
    fileRoutes({
      metricsPrefix: 'printerfile',
      root,
      switches: readSwitches(config, SWITCH_DEFAULTS),
      maxUploadBytes: config.PRINTERFILE_MAX_UPLOAD_BYTES,
      prefixes: ['/printerfiler', '/filer'],
      transfers: { rules, audit, uploadDir: '' },
    }),
  );
  audit.defineMetrics(app.metrics);
  await app.register(printerRoutes(cups));
  app.metrics.define({
    name: 'printerfile_jobs_announced_total',
    help: 'printer.new events published since start',
    type: 'counter',
    read: () => announcer.announcedCount,
  });

  await announcer.start();
  availability.start();
  let purgeTimer: NodeJS.Timeout | undefined;
  // the spec keeps HOME as WATCHDIR's default; home is never purged (it holds the user's own files, PDFs too)
  const purgeable = config.WATCHDIR !== undefined && root.real !== (await realpath(config.HOME).catch(() => config.HOME));
  if (!purgeable) logger.warn({ folder: root.real }, "WATCHDIR is unset or is HOME: old PDFs are not purged (set WATCHDIR to the printer's spool folder)");
  if (config.PRINTERFILE_PURGE_AGE_MS > 0 && purgeable) {
    const purge = () => void purgeOlderThan(root.real, config.PRINTERFILE_PURGE_AGE_MS, logger.child({ component: 'purge' }));
    purge();
    purgeTimer = setInterval(purge, config.PRINTERFILE_PURGE_INTERVAL_MS);
    purgeTimer.unref();
  }
  app.addHook('onClose', async () => {
    clearInterval(purgeTimer);
    availability.stop();
    await announcer.close();
    await bus.close();
  });
  return app;
}
