import { access, mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  connectBus,
  createServer,
  isSecretName,
  objectReply,
  replies,
  serverOptionsOf,
  transfersOf,
  type AgentConfig,
  type AgentContext,
} from '@desktop-agents/kit';
import { displayMax, handledCommands, type SpawnerEnv } from './config.js';
import { DisplayLink } from './display.js';
import { Clipboard, clipboardPolicy } from './clipboard.js';
import { FileDrop } from './file-drop.js';
import { dropRoutes } from './routes/drop.js';
import { XdndSource } from './xdnd.js';
import { IdleWatch } from './idle.js';
import { NotificationServer } from './notification-server.js';
import { NotificationCenter } from './notifications.js';
import { Launcher } from './launcher.js';
import { appRoutes } from './routes/apps.js';
import { audioRoutes } from './routes/audio.js';
import { clipboardRoutes } from './routes/clipboard.js';
import { desktopRoutes } from './routes/desktop-settings.js';
import { displayRoutes, PerClientLimit } from './routes/display.js';
import { idleRoutes } from './routes/idle.js';
import { wallpaperRoutes } from './routes/wallpaper.js';
import { launchRoutes } from './routes/launch.js';
import { windowRoutes } from './routes/windows.js';
import { ScreenControl } from './screen.js';
import { SettingsStore } from './store.js';
import { WindowListPublisher } from './window-list.js';

export type SpawnerConfig = AgentConfig<typeof SpawnerEnv>;

/**
 * getenv shows only these: what the web UI reads, and never a name the kit's secret rule matches, even one the
 * allow-list admits (ABCDESKTOP_SERVICE_..._TOKEN, a SPAWNER_ENV_ALLOW entry naming a password).
 */
function envAllowList(extra: string): (name: string) => boolean {
  const names = new Set([
    'ACCEPTCUTTEXT',
    'SENDCUTTEXT',
    ...extra
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  ]);
  return (name) => (names.has(name) || name.startsWith('ABCDESKTOP_SERVICE_')) && !isSecretName(name);
}

/** getSettings: `audio` while the pulse socket exists, `printers` while cupsd's does. */
async function settingsList(pulseServer: string, cupsSocket: string): Promise<string[]> {
  const exists = (path: string) =>
    access(path).then(
      () => true,
      () => false,
    );
  const list: string[] = [];
  if (pulseServer.startsWith('unix:') && (await exists(pulseServer.slice(5)))) list.push('audio');
  if (await exists(cupsSocket)) list.push('printers');
  return list;
}

export async function buildSpawner(context: AgentContext<SpawnerConfig>) {
  const { config, logger } = context;
  const screenLimits = { ...displayMax(config.SPAWNER_DISPLAY_MAX), fitDebounceMs: config.SPAWNER_DISPLAY_FIT_DEBOUNCE_MS };
  const display = new DisplayLink(config.DISPLAY, logger.child({ component: 'x11' }));
  await display.start();
  // whatever the bus relays (12 MiB frames by default), and a clipboard.set of CLIPBOARD_MAX_BYTES in base64: an
  // oversized paste must reach the clipboard's policy to be refused in words, not close the spawner's connection
  const bus = connectBus(config, logger, { maxPayload: Math.max(16 * 1024 * 1024, Math.ceil((config.CLIPBOARD_MAX_BYTES * 4) / 3) + 64 * 1024) });
  const publisher = new WindowListPublisher(display, bus, logger.child({ component: 'window-list' }));
  const store = new SettingsStore(join(config.HOME, '.store'));
  const idle = new IdleWatch(display, config.SPAWNER_IDLE_MS, bus, logger.child({ component: 'idle' }));
  const notifications = new NotificationCenter(
    bus,
    { defaultTimeoutMs: config.SPAWNER_NOTIFICATION_TIMEOUT_MS, maxOpen: 64 },
    logger.child({ component: 'notifications' }),
  );
  const notificationServer = config.DBUS_SESSION_BUS_ADDRESS
    ? new NotificationServer(config.DBUS_SESSION_BUS_ADDRESS, notifications, logger.child({ component: 'notifications' }))
    : undefined;
  const transfers = transfersOf(config, logger, bus);
  const clipboard = new Clipboard(clipboardPolicy(config), bus, logger.child({ component: 'clipboard' }), transfers);
  display.onConnect((desktop) => {
    clipboard.attach(desktop).catch((err: Error) => logger.warn({ err: { message: err.message } }, 'clipboard not available on this display'));
  });
  clipboard.acceptPastes(bus);
  const xdnd = new XdndSource(logger.child({ component: 'xdnd' }));
  display.onConnect((desktop) => {
    xdnd.attach(desktop.x).catch((err: Error) => logger.warn({ err: { message: err.message } }, 'drag and drop not available on this display'));
  });
  const drops = new FileDrop(config.HOME, xdnd, logger.child({ component: 'drop' }));
  drops.acceptDrops(bus);
  const screen = new ScreenControl(display, bus, screenLimits, logger.child({ component: 'screen' }));
  screen.acceptFit();
  notifications.acceptActions(bus);

  const app = await createServer({ ...serverOptionsOf(context), readiness: () => display.desktop.ping() });
  const launcher = new Launcher(
    app.children,
    handledCommands(config.SPAWNER_COMMANDS, config.TARGET_MODE),
    { home: config.HOME, display: config.DISPLAY, env: process.env },
    bus,
    logger.child({ component: 'launcher' }),
  );

  app.metrics.define({
    name: 'spawner_windows',
    help: 'windows on the desktop (_NET_CLIENT_LIST)',
    type: 'gauge',
    read: async () => {
      try {
        return (await display.desktop.clientList()).length;
      } catch {
        return 0;
      }
    },
  });
  transfers.audit.defineMetrics(app.metrics);
  app.metrics.define({ name: 'spawner_processes', help: 'programs launched and still running', type: 'gauge', read: () => app.children.pids.length });
  await app.register(
    async (spawner) => {
      await spawner.register(windowRoutes(display, publisher));
      await spawner.register(launchRoutes(launcher, bus));
      await spawner.register(
        desktopRoutes(display, store, bus, {
          allowEnv: envAllowList(config.SPAWNER_ENV_ALLOW),
          env: { ...process.env },
          versionFile: config.SPAWNER_VERSION_FILE,
          pod: { POD_NAME: config.POD_NAME, POD_NAMESPACE: config.POD_NAMESPACE, NODE_NAME: config.NODE_NAME },
          containerIp: config.CONTAINER_IP_ADDR,
          settings: () => settingsList(config.PULSE_SERVER, config.CUPS_SOCKET),
        }),
      );
      await spawner.register(
        wallpaperRoutes(display, store, bus, {
          home: config.HOME,
          defaultImage: config.SPAWNER_DEFAULT_IMAGE,
          limits: {
            maxBytes: config.SPAWNER_WALLPAPER_MAX_BYTES,
            maxPixels: config.SPAWNER_WALLPAPER_MAX_PIXELS,
            maxDecodedBytes: config.SPAWNER_WALLPAPER_MAX_DECODED_BYTES,
          },
        }),
      );
      await spawner.register(clipboardRoutes(clipboard, fileURLToPath(new URL('../public/', import.meta.url))));
      await spawner.register(idleRoutes(idle));
      await spawner.register(dropRoutes(drops));
      await spawner.register(displayRoutes(display, screen, new PerClientLimit(config.SPAWNER_SCREENSHOTS_PER_MINUTE)));
      await spawner.register(appRoutes({ home: config.HOME, ocrun: config.SPAWNER_OCRUN }));
      await spawner.register(
        audioRoutes({ pulseServer: config.PULSE_SERVER, pulseCookie: config.PULSEAUDIO_COOKIE, rtpDestination: config.SPAWNER_RTP_DESTINATION }, bus),
      );
      spawner.get('/openapi.json', { schema: { response: replies(objectReply) } }, async () => app.openapi());
    },
    { prefix: '/spawner' },
  );

  // the window manager signals: SIGUSR1 a window opened (list now), SIGUSR2 one closed (list after a second)
  const onOpen = () => publisher.schedule(0, true);
  const onClose = () => publisher.schedule(1000, true);
  process.on('SIGUSR1', onOpen);
  process.on('SIGUSR2', onClose);
  await mkdir(dirname(config.SPAWNER_PID_FILE), { recursive: true });
  await writeFile(config.SPAWNER_PID_FILE, `${process.pid}\n`);

  app.addHook('onClose', async () => {
    process.off('SIGUSR1', onOpen);
    process.off('SIGUSR2', onClose);
    publisher.stop();
    idle.stop();
    clipboard.close();
    xdnd.close();
    screen.close();
    notificationServer?.stop();
    notifications.stop();
    await bus.close();
    display.close();
    await rm(config.SPAWNER_PID_FILE, { force: true });
  });
  idle.start();
  void notificationServer?.start();
  return app;
}
