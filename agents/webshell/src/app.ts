import { access, constants } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { childEnv, createServer, publicFiles, serverOptionsOf, serveWebSockets, type AgentConfig, type AgentContext } from '@desktop-agents/kit';
import type { WebshellEnv } from './config.js';
import { attachHandler } from './routes/attach.js';
import { terminalRoutes } from './routes/terminals.js';
import { defaultShell, Terminals } from './terminals.js';

export type WebshellConfig = AgentConfig<typeof WebshellEnv>;

export async function buildWebshell(context: AgentContext<WebshellConfig>) {
  const { config, logger } = context;
  const terminals = new Terminals(
    {
      shell: config.WEBSHELL_SHELL || defaultShell(),
      cwd: config.HOME,
      // the agent's own secrets stay out of the user's shells
      env: childEnv({ HOME: config.HOME }),
      graceMs: config.WEBSHELL_GRACE_MS,
      scrollbackChars: config.WEBSHELL_SCROLLBACK_CHARS,
      maxTerminals: config.WEBSHELL_MAX_TERMINALS,
      highWaterBytes: config.WEBSHELL_HIGH_WATER_BYTES,
      lowWaterBytes: config.WEBSHELL_LOW_WATER_BYTES,
    },
    logger.child({ component: 'terminals' }),
  );
  const app = await createServer({
    ...serverOptionsOf(context),
    // a shell can start when its working folder is there and usable
    readiness: async () => access(config.HOME, constants.R_OK | constants.X_OK),
  });
  serveWebSockets(app, {
    maxPayload: config.WEBSHELL_MAX_FRAME_BYTES,
    heartbeatMs: config.WS_HEARTBEAT_MS,
    onConnection: attachHandler(terminals, logger.child({ component: 'attach' }), config.WEBSHELL_MAX_PENDING_INPUT_BYTES),
  });
  await app.register(terminalRoutes(terminals));
  app.metrics.define({ name: 'webshell_terminals', help: 'terminals running', type: 'gauge', read: () => terminals.size });
  // the terminal page and the xterm.js files bundled at build time
  await app.register(
    publicFiles(fileURLToPath(new URL('../public/', import.meta.url)), {
      '/': 'index.html',
      '/terminal.js': 'terminal.js',
      '/vendor/xterm.js': 'vendor/xterm.js',
      '/vendor/xterm.css': 'vendor/xterm.css',
      '/vendor/addon-fit.js': 'vendor/addon-fit.js',
    }),
  );
  app.addHook('onClose', async () => terminals.killAll());
  return app;
}
